/// One problem in the configuration, printed as `file:line: key: message` so that an administrator
/// (or an editor's quickfix list) can jump straight to it.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The configuration file, or `command line` for a problem in the flags.
    public var file: String
    /// 1-based; nil when the problem has no single line (a flag, a missing section).
    public var line: Int?
    /// The key as written (or `[section]` for a problem with a section header, `--flag` for a flag).
    public var key: String
    public var message: String

    public init(file: String, line: Int?, key: String, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(key): \(message)"
    }
}

/// Something that works but should be fixed, e.g. a secret that other users can read.
public struct ConfigWarning: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var message: String

    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): warning: \(message)" }
}

/// Every error found, not just the first: fixing a file one error per run is tedious.
public struct ConfigErrors: Error, Sendable, Equatable, CustomStringConvertible {
    public var errors: [ConfigError]

    public init(_ errors: [ConfigError]) { self.errors = errors }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
