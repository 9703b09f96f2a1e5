import ArgumentParser
import CallFile

/// The flags that describe one call, shared by `mkcall` and `spoold originate`.
public struct CallOptions: ParsableArguments {
    @Option(help: "Outbound channel as Tech/Resource, e.g. PJSIP/100 or Local/s@wakeup.")
    public var channel: String

    @Option(name: .customLong("app"), help: "Application to run once answered (application mode), e.g. Playback.")
    public var application: String?

    @Option(help: "Arguments for --app, passed literally (no ${...} expansion).")
    public var data: String?

    @Option(help: "Dialplan context to continue in once answered (dialplan mode).")
    public var context: String?

    @Option(name: .customLong("exten"), help: "Dialplan extension to continue at once answered (dialplan mode).")
    public var `extension`: String?

    @Option(help: "Dialplan priority, a positive number (labels are not supported). (default: 1)")
    public var priority: Int?

    @Option(name: .customLong("callerid"), help: "Caller ID of the outbound leg, e.g. '\"Wakeup\" <100>'.")
    public var callerID: String?

    @Option(help: "Seconds to ring before giving up. (default: 45)")
    public var waitTime: Int?

    @Option(help: "Retries after the first attempt; negative expires the file without dialling. (default: 0)")
    public var maxRetries: Int?

    @Option(help: "Seconds between attempts. (default: 300)")
    public var retryTime: Int?

    @Option(help: "Account code of the outbound channel.")
    public var account: String?

    @Option(name: .customLong("set"), help: "Channel variable NAME=VALUE; repeat for more. A later NAME wins.")
    public var variables: [String] = []

    @Option(help: "Codec changes, e.g. 'ulaw,!slin' (the set starts as slin); repeat to apply in turn.")
    public var codecs: [String] = []

    @Flag(name: .customLong("early-media"), help: "Treat early media as answer (dialplan mode only).")
    public var earlyMedia = false

    @Flag(help: "Keep the finished file in outgoing_done/ with a Status line instead of deleting it.")
    public var archive = false

    @Flag(name: .customLong("no-always-delete"), help: "Keep the file if the dialplan moved its mtime into the future during the call.")
    public var noAlwaysDelete = false

    public init() {}

    public func validate() throws {
        _ = try callFile()
    }

    /// The call file these flags describe, checked so that Asterisk reads back exactly this.
    public func callFile() throws(MakeCallError) -> CallFile {
        try checkCombinations()
        guard let parsedChannel = Channel(parsing: channel) else {
            throw MakeCallError(flag: "--channel", reason: "'\(channel)' has no '/'; write Tech/Resource, e.g. PJSIP/100")
        }
        var file = CallFile()
        file.channel = parsedChannel
        file.callerID = callerID.map(CallerID.init(parsing:))
        file.application = application ?? ""
        file.data = data ?? ""
        file.context = context ?? ""
        file.extension = self.extension ?? ""
        file.priority = priority ?? CallFile.defaultPriority
        file.waitTime = waitTime ?? CallFile.defaultWaitTime
        file.maxRetries = maxRetries ?? CallFile.defaultMaxRetries
        file.retryTime = retryTime ?? CallFile.defaultRetryTime
        file.account = account ?? ""
        file.variables = try variables.map { setting throws(MakeCallError) in try Self.variable(setting) }
        file.codecLines = codecs
        file.earlyMedia = earlyMedia
        file.archive = archive
        file.alwaysDelete = !noAlwaysDelete
        _ = try encode(file)
        return file
    }

    /// The call file's bytes, as `CallFileWriter` writes them.
    public func callFileBytes() throws(MakeCallError) -> [UInt8] {
        try encode(try callFile())
    }

    private func encode(_ file: CallFile) throws(MakeCallError) -> [UInt8] {
        do {
            return try CallFileWriter.bytes(for: file)
        } catch {
            throw MakeCallError(flag: flag(for: error.field), reason: reason(for: error))
        }
    }

    private func checkCombinations() throws(MakeCallError) {
        let dialplanFlags = [
            context.map { _ in "--context" }, self.extension.map { _ in "--exten" }, priority.map { _ in "--priority" },
        ].compactMap { $0 }
        if application != nil, let first = dialplanFlags.first {
            throw MakeCallError(flag: first, reason: "cannot be combined with --app; choose application or dialplan mode")
        }
        if application == nil, self.extension == nil {
            throw MakeCallError(flag: "--app/--exten", reason: "give --app (application mode) or --exten (dialplan mode)")
        }
        if application?.isEmpty == true {
            throw MakeCallError(flag: "--app", reason: "the application name is empty")
        }
        if self.extension?.isEmpty == true {
            throw MakeCallError(flag: "--exten", reason: "the extension is empty")
        }
        if data != nil, application == nil {
            throw MakeCallError(flag: "--data", reason: "only applies with --app")
        }
        if earlyMedia, application != nil {
            throw MakeCallError(flag: "--early-media", reason: "only applies in dialplan mode (--exten); Asterisk ignores it with --app")
        }
    }

    private static func variable(_ setting: String) throws(MakeCallError) -> Variable {
        guard let equals = setting.firstIndex(of: "=") else {
            throw MakeCallError(flag: "--set", reason: "'\(setting)' has no '='; write NAME=VALUE")
        }
        let name = String(setting[..<equals])
        guard !name.isEmpty else {
            throw MakeCallError(flag: "--set", reason: "'\(setting)' has an empty variable name")
        }
        if let last = name.utf8.last, last < 33 {
            throw MakeCallError(flag: "--set", reason: "the name in '\(setting)' ends with whitespace, which Asterisk keeps as part of the name")
        }
        return Variable(name: name, value: String(setting[setting.index(after: equals)...]))
    }

    private func reason(for error: CallFileWriter.Error) -> String {
        guard case .variable(let index) = error.field, index < variables.count else { return error.reason }
        let name = variables[index].prefix { $0 != "=" }
        return "variable '\(name)': \(error.reason)"
    }

    private func flag(for field: CallFileWriter.Error.Field) -> String {
        switch field {
        case .channel: "--channel"
        case .callerID: "--callerid"
        case .application: "--app"
        case .data: "--data"
        case .context: "--context"
        case .extension: "--exten"
        case .priority: "--priority"
        case .waitTime: "--wait-time"
        case .maxRetries: "--max-retries"
        case .retryTime: "--retry-time"
        case .account: "--account"
        case .variable: "--set"
        case .codecs: "--codecs"
        case .mode: "--app/--exten"
        }
    }
}
