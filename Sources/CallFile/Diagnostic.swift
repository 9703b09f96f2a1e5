/// Something the parser noticed about one line (or the whole file when `line` is nil).
public struct Diagnostic: Sendable, Equatable {
    public enum Severity: String, Sendable, Comparable {
        case note, warning, error

        public static func < (lhs: Severity, rhs: Severity) -> Bool {
            lhs.rank < rhs.rank
        }

        private var rank: Int {
            switch self {
            case .note: 0
            case .warning: 1
            case .error: 2
            }
        }
    }

    public var line: Int?
    public var severity: Severity
    /// Asterisk's own log wording where Asterisk logs one, else spoold's.
    public var message: String
    /// spoold's explanation of the surprise, when Asterisk says nothing or too little.
    public var hint: String?

    public init(line: Int?, severity: Severity, message: String, hint: String? = nil) {
        self.line = line
        self.severity = severity
        self.message = message
        self.hint = hint
    }
}

/// A file spoold fails rather than dials although Asterisk's spool would run it: spoold's hostile-input
/// rule (contract §5), or a file AMI itself cannot take (`OriginateLimits`).
public struct Rejection: Sendable, Equatable {
    /// The reason for logs and the result record, e.g. "control character".
    public var reason: String
    public var line: Int?
    /// What is wrong, where.
    public var detail: String
    /// Why that means the file is not dialled, for the log line.
    public var consequence: String

    public init(reason: String, line: Int?, detail: String, consequence: String) {
        self.reason = reason
        self.line = line
        self.detail = detail
        self.consequence = consequence
    }
}

/// The result of parsing: the model as Asterisk would read it, and everything worth telling the user.
public struct ParsedCallFile: Sendable {
    public var file: CallFile
    public var diagnostics: [Diagnostic]
    /// nil when the file is valid; otherwise Asterisk's invalid-file message (reference §2.5).
    public var invalidReason: String?
    /// Set when spoold refuses the file although Asterisk would run it (a CR or NUL inside a value).
    public var rejection: Rejection?
    /// The file's last byte, for `CallStatus.line(afterFileEndingWith:)`; nil for an empty file.
    public var lastByte: UInt8?

    public init(
        file: CallFile, diagnostics: [Diagnostic], invalidReason: String?, rejection: Rejection?, lastByte: UInt8?
    ) {
        self.file = file
        self.diagnostics = diagnostics
        self.invalidReason = invalidReason
        self.rejection = rejection
        self.lastByte = lastByte
    }

    public var isRunnable: Bool { invalidReason == nil && rejection == nil }
}
