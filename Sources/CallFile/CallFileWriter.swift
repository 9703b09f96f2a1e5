import ByteText
/// Turns a `CallFile` into bytes that Asterisk (and `CallFileParser`) reads back as the same value.
///
/// It refuses anything Asterisk would cut or misread instead of writing it: control characters,
/// whitespace that would vanish, a `#` that would start a comment, over-long lines, values Asterisk
/// truncates, numbers it would replace by defaults. `;` is escaped as `\;`.
public enum CallFileWriter {
    /// One refused value, naming the field it came from.
    public struct Error: Swift.Error, Equatable, CustomStringConvertible {
        public enum Field: Sendable, Equatable, CustomStringConvertible {
            case channel, callerID, application, data, context, `extension`, priority
            case waitTime, maxRetries, retryTime, account
            /// The `Set` line at this index of `variables`.
            case variable(Int)
            /// The `Codecs` line at this index of `codecLines`.
            case codecs(Int)
            /// Neither an application nor an extension.
            case mode

            public var description: String {
                switch self {
                case .channel: "Channel"
                case .callerID: "CallerID"
                case .application: "Application"
                case .data: "Data"
                case .context: "Context"
                case .extension: "Extension"
                case .priority: "Priority"
                case .waitTime: "WaitTime"
                case .maxRetries: "MaxRetries"
                case .retryTime: "RetryTime"
                case .account: "Account"
                case .variable(let index): "Set #\(index + 1)"
                case .codecs(let index): "Codecs #\(index + 1)"
                case .mode: "Application/Extension"
                }
            }
        }

        public var field: Field
        public var reason: String

        public init(field: Field, reason: String) {
            self.field = field
            self.reason = reason
        }

        public var description: String { "\(field): \(reason)" }
    }

    /// Asterisk keeps this many bytes of an application name when it dials.
    public static let maximumApplicationLength = 31
    /// Asterisk keeps this many bytes of a context or extension.
    public static let maximumDialplanNameLength = 79

    public static func bytes(for file: CallFile) throws(Error) -> [UInt8] {
        var out = Output()
        guard let channel = file.channel else {
            throw Error(field: .channel, reason: "a channel is required")
        }
        try checkChannel(channel)
        try out.line("Channel", channel.description, field: .channel)
        if let callerID = file.callerID {
            guard CallerID(parsing: callerID.raw) == callerID else {
                throw Error(field: .callerID, reason: "name and number do not match what Asterisk reads from '\(callerID.raw)'")
            }
            try checkLength(callerID.name, limit: CallerID.maximumPartLength, what: "caller ID name", field: .callerID)
            try checkLength(callerID.number, limit: CallerID.maximumPartLength, what: "caller ID number", field: .callerID)
            try out.line("CallerID", callerID.raw, field: .callerID)
        }
        guard !file.application.isEmpty || !file.extension.isEmpty else {
            throw Error(field: .mode, reason: "an application or an extension is required")
        }
        try checkLength(file.application, limit: maximumApplicationLength, what: "application name", field: .application)
        try checkLength(file.context, limit: maximumDialplanNameLength, what: "context", field: .context)
        try checkLength(file.extension, limit: maximumDialplanNameLength, what: "extension", field: .extension)
        try out.optional("Application", file.application, field: .application)
        try out.optional("Data", file.data, field: .data)
        try out.optional("Context", file.context, field: .context)
        try out.optional("Extension", file.extension, field: .extension)
        if file.priority != CallFile.defaultPriority || file.application.isEmpty {
            try out.line("Priority", try number(file.priority, minimum: 1, field: .priority), field: .priority)
        }
        try out.line("WaitTime", try number(file.waitTime, minimum: 1, field: .waitTime), field: .waitTime)
        try out.line("MaxRetries", try number(file.maxRetries, minimum: nil, field: .maxRetries), field: .maxRetries)
        try out.line("RetryTime", try number(file.retryTime, minimum: 1, field: .retryTime), field: .retryTime)
        try out.optional("Account", file.account, field: .account)
        for (index, variable) in file.variables.enumerated() {
            if variable.name.isEmpty {
                throw Error(field: .variable(index), reason: "the variable name is empty")
            }
            if variable.name.utf8.contains(UInt8(ascii: "=")) {
                throw Error(field: .variable(index), reason: "the variable name '\(variable.name)' contains '='")
            }
            try out.line("Set", "\(variable.name)=\(variable.value)", field: .variable(index))
        }
        for (index, codecs) in file.codecLines.enumerated() {
            try out.line("Codecs", codecs, field: .codecs(index))
        }
        if file.earlyMedia { out.fixed("Early_Media: yes") }
        if !file.alwaysDelete { out.fixed("AlwaysDelete: no") }
        if file.archive { out.fixed("Archive: yes") }
        for record in file.records {
            out.bytes += record.bytes
        }
        // The finish mark only means something after a record (that is how it is read back).
        if let status = file.finishedStatus, !file.records.isEmpty {
            out.bytes += status.line(afterFileEndingWith: out.bytes.last)
        }
        return out.bytes
    }

    private static func checkChannel(_ channel: Channel) throws(Error) {
        if channel.tech.isEmpty { throw Error(field: .channel, reason: "the technology before '/' is empty") }
        if channel.resource.isEmpty { throw Error(field: .channel, reason: "the destination after '/' is empty") }
        if channel.tech.utf8.contains(UInt8(ascii: "/")) {
            throw Error(field: .channel, reason: "the technology '\(channel.tech)' contains '/'")
        }
    }

    private static func checkLength(_ value: String, limit: Int, what: String, field: Error.Field) throws(Error) {
        let length = ByteText.byteCount(value)
        if length > limit {
            throw Error(field: field, reason: "the \(what) is \(length) bytes; Asterisk keeps only \(limit)")
        }
    }

    /// Asterisk reads numbers into a C int and replaces out-of-range ones by defaults.
    private static func number(_ value: Int, minimum: Int?, field: Error.Field) throws(Error) -> String {
        if let minimum, value < minimum {
            throw Error(field: field, reason: "\(value) is below \(minimum); Asterisk would use its default")
        }
        guard Int(Int32.min)...Int(Int32.max) ~= value else {
            throw Error(field: field, reason: "\(value) does not fit in 32 bits")
        }
        return String(value)
    }

    private struct Output {
        var bytes: [UInt8] = []

        /// A line spelled out here, which needs no checking.
        mutating func fixed(_ line: StaticString) {
            bytes += UnsafeBufferPointer(start: line.utf8Start, count: line.utf8CodeUnitCount)
            bytes.append(UInt8(ascii: "\n"))
        }

        mutating func optional(_ key: String, _ value: String, field: Error.Field) throws(Error) {
            if !value.isEmpty { try line(key, value, field: field) }
        }

        mutating func line(_ key: String, _ value: String, field: Error.Field) throws(Error) {
            let start = bytes.count
            bytes += key.utf8
            bytes.append(UInt8(ascii: ":"))
            // An empty value gets no space, so the line carries no trailing whitespace.
            if !value.isEmpty { bytes.append(UInt8(ascii: " ")) }
            try CallFileWriter.append(value, to: &bytes, field: field)
            let length = bytes.count - start
            if length > ScannedLine.maximumLength {
                throw Error(
                    field: field,
                    reason: "the line would be \(length) bytes; Asterisk skips lines over \(ScannedLine.maximumLength)")
            }
            bytes.append(UInt8(ascii: "\n"))
        }
    }

    /// Appends a value so that Asterisk reads back exactly `value`, or says why it cannot.
    static func append(_ value: String, to bytes: inout [UInt8], field: Error.Field) throws(Error) {
        // The bytes the value stands for: a value read from bytes that are not UTF-8 is written back as
        // those bytes (ByteText), so parse(write(x)) == x holds for it too.
        let utf8 = ByteText.bytes(value)
        if let first = utf8.first, first < 33 {
            throw Error(field: field, reason: "leading whitespace would be removed")
        }
        if let last = utf8.last, last < 33 {
            throw Error(field: field, reason: "trailing whitespace would be removed")
        }
        var previous = UInt8(ascii: " ")  // the value follows ": ", so a leading '#' follows a space
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"), 0:
                throw Error(field: field, reason: "contains a line break or NUL")
            case UInt8(ascii: "\t"):
                break
            case 0..<32, 0x7F:
                throw Error(field: field, reason: "contains the control character 0x\(String(byte, radix: 16))")
            case UInt8(ascii: "#") where previous == UInt8(ascii: " ") || previous == UInt8(ascii: "\t"):
                throw Error(
                    field: field,
                    reason: "'#' at the start or after a space starts a comment in Asterisk, and cannot be escaped")
            case UInt8(ascii: ";"):
                bytes.append(UInt8(ascii: "\\"))
            default:
                break
            }
            bytes.append(byte)
            previous = byte
        }
    }
}
