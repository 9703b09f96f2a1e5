import JSONString
/// What `spoold check` says about one file: its diagnostics and how it would run, as compiler-style
/// text or as one JSON object. Pure; the command does the reading.
public struct CheckReport: Sendable {
    public enum Outcome: Sendable {
        /// The file was read; `mtime` is its due time in epoch seconds.
        case parsed(ParsedCallFile, mtime: Int64)
        /// The file was not read (symlink, not a regular file, too large, permission...).
        case unreadable(reason: String)
    }

    public var path: String
    public var outcome: Outcome

    public init(path: String, outcome: Outcome) {
        self.path = path
        self.outcome = outcome
    }

    /// Valid means Asterisk and spoold would both try to run it.
    public var isValid: Bool {
        if case .parsed(let parsed, _) = outcome { return parsed.isRunnable }
        return false
    }

    // MARK: Text

    /// `PATH:LINE: severity: message`, then one line saying how the file would run.
    public var textLines: [String] {
        switch outcome {
        case .unreadable(let reason):
            return ["\(path): error: \(reason)"]
        case .parsed(let parsed, let mtime):
            var lines = parsed.diagnostics.map { diagnostic in
                let location = diagnostic.line.map { "\(path):\($0)" } ?? path
                let hint = diagnostic.hint.map { " (\($0))" } ?? ""
                return "\(location): \(diagnostic.severity.rawValue): \(diagnostic.message)\(hint)"
            }
            lines.append("\(path): \(summary(parsed, mtime: mtime))")
            return lines
        }
    }

    private func summary(_ parsed: ParsedCallFile, mtime: Int64) -> String {
        if let rejection = parsed.rejection {
            return "refused (\(rejection.reason)): spoold would finish it with Status: Failed without dialling"
        }
        if parsed.invalidReason != nil {
            let fate = parsed.file.archive ? "archived to outgoing_done/ with Status: Failed" : "deleted"
            return "invalid: Asterisk and spoold would not dial it; it would be \(fate)"
        }
        let file = parsed.file
        if let status = file.finishedStatus {
            return "finished (Status: \(status.rawValue) follows its last attempt): spoold would archive it without dialling; remove the Status line to have it dialled again"
        }
        var text = "\(modeName(file)) mode, \(file.channel?.description ?? "") -> \(destination(file))"
        text += ", attempts used \(file.finishedAttempts) of \(max(0, file.attemptsAllowed))"
        if file.finishedAttempts >= file.attemptsAllowed {
            text += " (would expire without dialling)"
        }
        if let start = file.inFlightStart {
            text += ", attempt \(start.number) in flight (StartRetry pid \(start.pid))"
        }
        text += ", due \(Self.iso8601(mtime))"
        return text
    }

    private func modeName(_ file: CallFile) -> String {
        switch file.mode {
        case .application: "application"
        case .dialplan: "dialplan"
        }
    }

    private func destination(_ file: CallFile) -> String {
        switch file.mode {
        case .application(let name, let data):
            return "\(name)(\(data))"
        case .dialplan(let context, let exten, let priority):
            return "\(exten)@\(context.isEmpty ? "<channel's context>" : context),\(priority)"
        }
    }

    // MARK: JSON

    /// One JSON object on one line, with the same facts as the text.
    public var jsonLine: String {
        var object = JSONObject()
        object.add("path", .string(path))
        object.add("valid", .bool(isValid))
        switch outcome {
        case .unreadable(let reason):
            object.add("error", .string(reason))
        case .parsed(let parsed, let mtime):
            let file = parsed.file
            object.add("invalidReason", parsed.invalidReason.map(JSONValue.string) ?? .null)
            object.add("rejection", parsed.rejection.map { .string($0.reason) } ?? .null)
            object.add("mode", .string(modeName(file)))
            object.add("channel", file.channel.map { .string($0.description) } ?? .null)
            object.add("destination", .string(destination(file)))
            object.add("attemptsUsed", .number(Int64(file.finishedAttempts)))
            object.add("attemptsAllowed", .number(Int64(max(0, file.attemptsAllowed))))
            if let start = file.inFlightStart {
                object.add("inFlight", .raw("{\"pid\":\(start.pid),\"attempt\":\(start.number)}"))
            } else {
                object.add("inFlight", .null)
            }
            object.add("finishedStatus", file.finishedStatus.map { .string($0.rawValue) } ?? .null)
            object.add("dueTime", .number(mtime))
            object.add("dueTimeUTC", .string(Self.iso8601(mtime)))
            let diagnostics = parsed.diagnostics.map { diagnostic in
                var item = JSONObject()
                item.add("line", diagnostic.line.map { .number(Int64($0)) } ?? .null)
                item.add("severity", .string(diagnostic.severity.rawValue))
                item.add("message", .string(diagnostic.message))
                item.add("hint", diagnostic.hint.map(JSONValue.string) ?? .null)
                return item.rendered
            }
            object.add("diagnostics", .raw("[" + diagnostics.joined(separator: ",") + "]"))
        }
        return object.rendered
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` for epoch seconds.
    static func iso8601(_ epoch: Int64) -> String {
        let (days, secondsOfDay) = CivilDate.split(epochSeconds: epoch)
        let date = CivilDate(daysSinceEpoch: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(date.year, 4))-\(pad(date.month, 2))-\(pad(date.day, 2))T"
            + "\(pad(secondsOfDay / 3600, 2)):\(pad(secondsOfDay / 60 % 60, 2)):\(pad(secondsOfDay % 60, 2))Z"
    }
}

private enum JSONValue {
    case string(String), number(Int64), bool(Bool), null, raw(String)

    var rendered: String {
        switch self {
        case .string(let text): JSONString.quoted(text)
        case .number(let value): String(value)
        case .bool(let value): value ? "true" : "false"
        case .null: "null"
        case .raw(let json): json
        }
    }
}

private struct JSONObject {
    private var members: [String] = []

    mutating func add(_ key: String, _ value: JSONValue) {
        members.append(JSONValue.string(key).rendered + ":" + value.rendered)
    }

    var rendered: String { "{" + members.joined(separator: ",") + "}" }
}
