/// One call file as Asterisk's spool understands it: every key it reads, with Asterisk's defaults,
/// plus the retry records that earlier attempts appended.
///
/// Values are exactly what the parser produced: comments cut, `\;` unescaped, trailing control bytes
/// removed. `CallFileParser` builds it from bytes and `CallFileWriter` turns it back into bytes.
public struct CallFile: Sendable, Equatable {
    /// The last well-formed `Channel` line; nil when the file has none.
    public var channel: Channel?
    public var callerID: CallerID?
    public var application: String
    public var data: String
    public var context: String
    public var `extension`: String
    public var priority: Int
    /// Ring timeout in seconds.
    public var waitTime: Int
    /// Retries after the first attempt; negative values are accepted and expire the file unseen.
    public var maxRetries: Int
    /// Seconds between attempts.
    public var retryTime: Int
    public var account: String
    /// Every `Set`/`SetVar` line, in file order; see `effectiveVariables` for what reaches the channel.
    public var variables: [Variable]
    /// The raw value of every `Codecs` line, in order; see `finalCodecs`.
    public var codecLines: [String]
    public var earlyMedia: Bool
    public var alwaysDelete: Bool
    public var archive: Bool
    /// `Retry`, `StartRetry`, `EndRetry`, `AbortRetry` and `DelayedRetry` lines, in file order.
    public var records: [RetryRecord]
    /// The `Status:` line that follows the last record, if any: the call was finished and its file was
    /// about to be archived when the spooler stopped. Never dialled again; archived with this Status.
    public var finishedStatus: CallStatus?

    public static let defaultPriority = 1
    public static let defaultWaitTime = 45
    public static let defaultMaxRetries = 0
    public static let defaultRetryTime = 300

    /// A file with no lines: Asterisk's defaults everywhere.
    public init() {
        channel = nil
        callerID = nil
        application = ""
        data = ""
        context = ""
        self.extension = ""
        priority = Self.defaultPriority
        waitTime = Self.defaultWaitTime
        maxRetries = Self.defaultMaxRetries
        retryTime = Self.defaultRetryTime
        account = ""
        variables = []
        codecLines = []
        earlyMedia = false
        alwaysDelete = true
        archive = false
        records = []
        finishedStatus = nil
    }

    /// How the answered call continues. A non-empty Application wins over an Extension, as in Asterisk.
    public enum Mode: Sendable, Equatable {
        case application(name: String, data: String)
        case dialplan(context: String, extension: String, priority: Int)
    }

    public var mode: Mode {
        if !application.isEmpty {
            return .application(name: application, data: data)
        }
        return .dialplan(context: context, extension: self.extension, priority: priority)
    }

    /// Attempts allowed in total: the first one plus `maxRetries`.
    public var attemptsAllowed: Int { maxRetries + 1 }
}

/// `Tech/Resource`, split at the first `/` (`Local/100@ctx/n` → `Local`, `100@ctx/n`).
public struct Channel: Sendable, Equatable, CustomStringConvertible {
    public var tech: String
    public var resource: String

    public init(tech: String, resource: String) {
        self.tech = tech
        self.resource = resource
    }

    /// Splits at the first `/`; nil when there is none (Asterisk then keeps the previous Channel).
    public init?(parsing value: String) {
        // An ASCII value (nearly every channel) is split as bytes: the same two Strings, without the
        // Character indexing that cost about 1,000 instructions per call file.
        let ascii = value.utf8.withContiguousStorageIfAvailable { buffer -> (slash: Int?, tech: String, resource: String)? in
            guard !buffer.contains(where: { $0 >= 0x80 }) else { return nil }
            guard let slash = buffer.firstIndex(of: UInt8(ascii: "/")) else { return (nil, "", "") }
            return (slash, String(decoding: UnsafeBufferPointer(rebasing: buffer[..<slash]), as: UTF8.self),
                    String(decoding: UnsafeBufferPointer(rebasing: buffer[(slash + 1)...]), as: UTF8.self))
        }
        if let split = ascii ?? nil {
            guard split.slash != nil else { return nil }
            (tech, resource) = (split.tech, split.resource)
            return
        }
        guard let slash = value.utf8.firstIndex(of: UInt8(ascii: "/")) else { return nil }
        tech = String(value[..<slash])
        resource = String(value[value.index(after: slash)...])
    }

    public var description: String { tech + "/" + resource }
}

/// One `Set`/`SetVar` line: the name as written up to the first `=` (trailing spaces kept), and the rest.
public struct Variable: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
