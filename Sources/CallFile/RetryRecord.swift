/// One line that a spool (Asterisk's or spoold's) appended to record an attempt.
public struct RetryRecord: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case retry = "Retry"
        case start = "StartRetry"
        case end = "EndRetry"
        case abort = "AbortRetry"
        case delayed = "DelayedRetry"

        /// `Retry`, `EndRetry` and `AbortRetry` each count one finished attempt.
        public var countsAsFinishedAttempt: Bool {
            switch self {
            case .retry, .end, .abort: true
            case .start, .delayed: false
            }
        }
    }

    public var kind: Kind
    /// The pid of the process that wrote the record; informative only.
    public var pid: Int
    /// The attempt number (for `DelayedRetry`: the finished attempts so far).
    public var number: Int
    /// Epoch seconds; for `StartRetry` it is the read time plus RetryTime, as Asterisk writes it.
    public var epoch: Int64
    /// The physical line it was read from; nil for a record about to be written.
    public var line: Int?

    public init(kind: Kind, pid: Int, number: Int, epoch: Int64, line: Int? = nil) {
        self.kind = kind
        self.pid = pid
        self.number = number
        self.epoch = epoch
        self.line = line
    }

    /// The bytes to append, exactly as Asterisk appends them: `\n<Tag>: <pid> <n> (<epoch>)\n`.
    /// Written byte by byte rather than through string interpolation: one is made per attempt.
    public var bytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        bytes.append(UInt8(ascii: "\n"))
        bytes.append(contentsOf: kind.rawValue.utf8)
        bytes.append(UInt8(ascii: ":"))
        bytes.append(UInt8(ascii: " "))
        Self.appendDecimal(Int64(pid), to: &bytes)
        bytes.append(UInt8(ascii: " "))
        Self.appendDecimal(Int64(number), to: &bytes)
        bytes.append(UInt8(ascii: " "))
        bytes.append(UInt8(ascii: "("))
        Self.appendDecimal(epoch, to: &bytes)
        bytes.append(UInt8(ascii: ")"))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    /// `value` in decimal, with a `-` when negative, as `\(value)` writes it.
    public static func appendDecimal(_ value: Int64, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        // Most significant digit first, from the largest power of ten not above the value: turning an
        // appended run around afterwards (`bytes[first...].reverse()`) copied the whole array each time.
        let magnitude = value.magnitude
        var scale: UInt64 = 1
        while magnitude / scale >= 10 { scale *= 10 }
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude / scale % 10))
            scale /= 10
        } while scale > 0
    }
}

/// The outcome appended to a finished file (reference §7).
public enum CallStatus: String, Sendable, CaseIterable {
    case completed = "Completed"
    case expired = "Expired"
    case failed = "Failed"
    /// Cancelled with `spoold cancel` (spoold's own value; Asterisk's spool never writes it, and reads any
    /// Status line after the last record as finished).
    case cancelled = "Cancelled"

    /// `Status: X\n`, preceded by an LF when the file's last byte is not one, so the line always
    /// stands on its own (contract §2.9; Asterisk would glue it to the last line).
    public func line(afterFileEndingWith lastByte: UInt8?) -> [UInt8] {
        // Built in one buffer of the right size (an interpolated String and its copy cost about 1,400
        // instructions per archived file).
        let status = rawValue.utf8
        var line: [UInt8] = []
        line.reserveCapacity(status.count + 10)
        if let lastByte, lastByte != UInt8(ascii: "\n") { line.append(UInt8(ascii: "\n")) }
        line.append(contentsOf: "Status: ".utf8)
        line.append(contentsOf: status)
        line.append(UInt8(ascii: "\n"))
        return line
    }
}
