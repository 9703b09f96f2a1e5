import ByteText

/// The limits of AMI itself on the Originate spoold sends for a call file (contract, "Limits of AMI
/// itself"). Asterisk's spool reads call-file lines of up to 1022 bytes, but its manager reads a request
/// line into a 1024-byte buffer, CRLF included: a `Set:` value that fits the one can make a `Variable:`
/// header that does not fit the other ("Set:" is four bytes, "Variable: " ten). Asterisk answers such a
/// request with `Failed to parse message: line too long`, whatever else it held. So the file cannot be
/// placed through AMI, and spoold refuses it before dialling (`ParsedCallFile.rejection`), and
/// `spoold check` says so.
public enum OriginateLimits {
    /// The longest request line Asterisk's manager reads, CRLF included.
    public static let maximumLineLength = 1024
    /// The most lines a request may have, the blank line that ends it included.
    public static let maximumLineCount = 128
    /// The attempt number's variable, which spoold sets on every Originate (it overrides a `Set` of it).
    public static let attemptVariable = "AST_OUTGOING_ATTEMPT"

    /// One header of the Originate, as it goes on the wire: `Name: value` and CRLF.
    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
        /// The call-file line it comes from (the last one that set it; for Codecs, built from every Codecs
        /// line, the last of them); nil when no line set it.
        public var line: Int?

        /// Bytes on the wire, CRLF included.
        public var length: Int { name.utf8.count + 2 + ByteText.byteCount(value) + 2 }
    }

    /// The headers spoold sends for `file` that come from it, in the Originate's order, with the line each
    /// comes from (`lines` maps a header name, or `Variable` plus the variable's name, to its line). Left
    /// out: Action, ActionID, Timeout, Priority, Async, ChannelId and the attempt variable, which spoold
    /// makes short.
    public static func headers(of file: CallFile, lines: [String: Int] = [:]) -> [Header] {
        var headers: [Header] = []
        func add(_ name: String, _ value: String, key: String? = nil) {
            headers.append(Header(name: name, value: value, line: lines[key ?? name]))
        }
        if let channel = file.channel { add("Channel", channel.description) }
        switch file.mode {
        case .application(let name, let data):
            add("Application", name)
            if !data.isEmpty { add("Data", data) }
        case .dialplan(let context, let exten, _):
            if !context.isEmpty { add("Context", context) }
            if !exten.isEmpty { add("Exten", exten, key: "Extension") }
        }
        if let callerID = file.callerID?.originateValue { add("CallerID", callerID) }
        if !file.account.isEmpty { add("Account", file.account) }
        for variable in file.effectiveVariables where variable.name != attemptVariable {
            add("Variable", "\(variable.name)=\(variable.value)", key: "Variable " + variable.name)
        }
        // Built from every Codecs line; the last one is named.
        headers.append(Header(name: "Codecs", value: file.finalCodecs.joined(separator: ","), line: lines["Codecs"]))
        return headers
    }

    /// The lines of the whole Originate: the headers above, spoold's own (Action, ActionID, Timeout,
    /// Async, ChannelId, the attempt variable, Priority and EarlyMedia in dialplan mode) and the blank line.
    public static func lineCount(of file: CallFile) -> Int {
        var own = 7  // Action, ActionID, Timeout, AST_OUTGOING_ATTEMPT, Async, ChannelId, the blank line
        if case .dialplan = file.mode {
            own += 1  // Priority
            if file.earlyMedia { own += 1 }
        }
        return headers(of: file).count + own
    }

    /// Why AMI could not take the Originate for `file`, or nil when it can.
    public static func problem(of file: CallFile, lines: [String: Int] = [:]) -> Rejection? {
        if let header = headers(of: file, lines: lines).first(where: { $0.length > maximumLineLength }) {
            let what = header.name == "Variable"
                ? "the Variable header for \(header.value.prefix { $0 != "=" })"
                : "the \(header.name) header"
            let from = header.line.map { " (line \($0))" } ?? ""
            return Rejection(
                reason: "AMI line limit: \(what)\(from) would be \(header.length) bytes, over the \(maximumLineLength) bytes Asterisk's manager reads",
                line: header.line,
                detail: "\(what)\(from) would be a \(header.length)-byte line, CRLF included, and AMI reads request lines of at most \(maximumLineLength) bytes",
                consequence: "Asterisk's own spool reads such a file, but Asterisk refuses such an Originate ('Failed to parse message: line too long'), so spoold fails the file without dialling it")
        }
        let count = lineCount(of: file)
        if count > maximumLineCount {
            return Rejection(
                reason: "AMI request limit: the Originate would be \(count) lines, over the \(maximumLineCount) Asterisk's manager reads",
                line: nil,
                detail: "the Originate would be \(count) lines (one Variable per Set name), and AMI reads requests of at most \(maximumLineCount) lines",
                consequence: "Asterisk refuses such an Originate ('Too many lines in message'), so spoold fails the file without dialling it")
        }
        return nil
    }
}

extension CallerID {
    /// The CallerID header of an Originate: the name and number as Asterisk parsed them (the number
    /// normalised), so AMI receives exactly the parsed values rather than the raw text; nil when both
    /// are empty.
    public var originateValue: String? {
        switch (name.isEmpty, number.isEmpty) {
        case (true, true): return nil
        case (false, true): return "\"\(name)\""
        case (true, false): return number
        case (false, false): return "\"\(name)\" <\(number)>"
        }
    }
}
