import Spooler

/// A request to the running spoold over its control socket.
public enum ControlRequest: Equatable, Sendable {
    /// Every file spoold knows.
    case queue
    /// Finish a waiting file as Cancelled, or hang up its call in flight first.
    case cancel(String)
    /// Move a waiting file's due time.
    case reschedule(String, to: SpoolInstant)
}

/// The daemon's answer to one request.
public enum ControlResponse: Equatable, Sendable {
    case listing([QueueEntry])
    case done(String)
    /// No such file known to spoold.
    case unknown(String)
    /// Not allowed in the file's state: why.
    case refused(String)
    /// The request could not be read.
    case badRequest(String)
}

public struct ControlCodecError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The control socket's wire format, separate from the I/O: one request line per connection, and a
/// response of lines, each ending with LF. Fields are separated by TAB; inside a field, backslash, TAB, LF
/// and CR are written `\\`, `\t`, `\n`, `\r`, so any file name survives.
///
///     request:  queue | cancel<TAB>NAME | reschedule<TAB>NAME<TAB>EPOCH-NANOSECONDS
///     response: entry<TAB>NAME<TAB>STATE<TAB>ATTEMPT<TAB>DUE-NS<TAB>MADE<TAB>ALLOWED<TAB>CHANNEL  (per file)
///               end<TAB>COUNT (ends a listing) | ok<TAB>TEXT | unknown<TAB>TEXT | refused<TAB>TEXT | error<TAB>TEXT
///
/// A missing value (no due time, a file spoold has not read yet) is `-`.
public enum ControlCodec {
    /// A request line longer than this is refused (a name is at most 255 bytes).
    public static let maxRequestLength = 4096

    // MARK: Requests

    public static func encode(_ request: ControlRequest) -> [UInt8] {
        let fields: [String] = switch request {
        case .queue: ["queue"]
        case .cancel(let name): ["cancel", name]
        case .reschedule(let name, let due): ["reschedule", name, String(due.nanoseconds)]
        }
        return line(fields)
    }

    /// One request line, without its LF.
    public static func decodeRequest(_ line: some Collection<UInt8>) throws(ControlCodecError) -> ControlRequest {
        guard line.count <= maxRequestLength else { throw ControlCodecError("request longer than \(maxRequestLength) bytes") }
        let fields = try split(line)
        switch fields.first {
        case "queue"?:
            guard fields.count == 1 else { throw ControlCodecError("queue takes no arguments") }
            return .queue
        case "cancel"?:
            guard fields.count == 2, let name = fields.last, !name.isEmpty else { throw ControlCodecError("cancel takes one file name") }
            return .cancel(name)
        case "reschedule"?:
            guard fields.count == 3, !fields[1].isEmpty else { throw ControlCodecError("reschedule takes a file name and a time") }
            guard let nanoseconds = Int64(fields[2]) else { throw ControlCodecError("'\(fields[2])' is not a time in epoch nanoseconds") }
            return .reschedule(fields[1], to: SpoolInstant(nanoseconds: nanoseconds))
        case let command?:
            throw ControlCodecError("unknown request '\(command)' (queue, cancel or reschedule)")
        case nil:
            throw ControlCodecError("empty request")
        }
    }

    // MARK: Responses

    public static func encode(_ response: ControlResponse) -> [UInt8] {
        switch response {
        case .listing(let entries):
            var bytes: [UInt8] = []
            bytes.reserveCapacity(entries.count * 96)
            for entry in entries { bytes += line(fields(of: entry)) }
            return bytes + line(["end", String(entries.count)])
        case .done(let text): return line(["ok", text])
        case .unknown(let text): return line(["unknown", text])
        case .refused(let text): return line(["refused", text])
        case .badRequest(let text): return line(["error", text])
        }
    }

    /// A whole response (every line up to the end of the stream). A listing must end with its `end` line
    /// and count, so that a cut connection is never taken for a short queue.
    public static func decodeResponse(_ bytes: [UInt8]) throws(ControlCodecError) -> ControlResponse {
        guard bytes.last == UInt8(ascii: "\n") else { throw ControlCodecError("the answer was cut short") }
        var entries: [QueueEntry] = []
        for line in bytes.dropLast().split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            let fields = try split(line)
            switch fields.first {
            case "entry"?: entries.append(try entry(fields))
            case "end"? where fields.count == 2:
                guard Int(fields[1]) == entries.count else {
                    throw ControlCodecError("the listing says \(fields[1]) files but holds \(entries.count)")
                }
                return .listing(entries)
            case "ok"? where fields.count == 2: return .done(fields[1])
            case "unknown"? where fields.count == 2: return .unknown(fields[1])
            case "refused"? where fields.count == 2: return .refused(fields[1])
            case "error"? where fields.count == 2: return .badRequest(fields[1])
            default: throw ControlCodecError("unexpected line in the answer: \(fields.first ?? "")")
            }
        }
        throw ControlCodecError("the answer has no final line")
    }

    // MARK: Entries

    static func fields(of entry: QueueEntry) -> [String] {
        let (state, attempt): (String, String) = switch entry.state {
        case .scheduled: ("scheduled", "-")
        case .due: ("due", "-")
        case .parked: ("parked", "-")
        case .held: ("held", "-")
        case .inFlight(let attempt): ("in-flight", String(attempt))
        case .checking: ("checking", "-")
        case .finishing: ("finishing", "-")
        }
        return ["entry", entry.name, state, attempt, entry.due.map { String($0.nanoseconds) } ?? "-",
                entry.summary.map { String($0.attemptsMade) } ?? "-", entry.summary.map { String($0.attemptsAllowed) } ?? "-",
                entry.summary?.channel ?? "-"]
    }

    static func entry(_ fields: [String]) throws(ControlCodecError) -> QueueEntry {
        guard fields.count == 8, !fields[1].isEmpty else { throw ControlCodecError("an entry has \(fields.count) fields, not 8") }
        let state: QueueEntry.State
        switch (fields[2], Int(fields[3])) {
        case ("scheduled", nil): state = .scheduled
        case ("due", nil): state = .due
        case ("parked", nil): state = .parked
        case ("held", nil): state = .held
        case ("in-flight", let attempt?): state = .inFlight(attempt: attempt)
        case ("checking", nil): state = .checking
        case ("finishing", nil): state = .finishing
        default: throw ControlCodecError("unknown state '\(fields[2])' of \(fields[1])")
        }
        var due: SpoolInstant?
        if fields[4] != "-" {
            guard let nanoseconds = Int64(fields[4]) else { throw ControlCodecError("bad due time '\(fields[4])' of \(fields[1])") }
            due = SpoolInstant(nanoseconds: nanoseconds)
        }
        var summary: SpoolStateMachine.FileSummary?
        if let made = Int(fields[5]), let allowed = Int(fields[6]) {
            summary = .init(channel: fields[7], attemptsMade: made, attemptsAllowed: allowed)
        } else if fields[5] != "-" || fields[6] != "-" {
            throw ControlCodecError("bad attempt counts of \(fields[1])")
        }
        return QueueEntry(name: fields[1], state: state, due: due, summary: summary)
    }

    // MARK: Fields

    static func line(_ fields: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        for (index, field) in fields.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: "\t")) }
            for byte in field.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
                case UInt8(ascii: "\t"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
                case UInt8(ascii: "\n"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                case UInt8(ascii: "\r"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
                default: bytes.append(byte)
                }
            }
        }
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    static func split(_ line: some Collection<UInt8>) throws(ControlCodecError) -> [String] {
        var fields: [String] = []
        var field: [UInt8] = []
        var escaped = false
        for byte in line {
            if escaped {
                switch byte {
                case UInt8(ascii: "\\"): field.append(byte)
                case UInt8(ascii: "t"): field.append(UInt8(ascii: "\t"))
                case UInt8(ascii: "n"): field.append(UInt8(ascii: "\n"))
                case UInt8(ascii: "r"): field.append(UInt8(ascii: "\r"))
                default: throw ControlCodecError("unknown escape '\\\(Character(Unicode.Scalar(byte)))'")
                }
                escaped = false
                continue
            }
            switch byte {
            case UInt8(ascii: "\\"): escaped = true
            case UInt8(ascii: "\t"):
                fields.append(try text(field))
                field.removeAll(keepingCapacity: true)
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"), 0: throw ControlCodecError("a control character inside a line")
            default: field.append(byte)
            }
        }
        guard !escaped else { throw ControlCodecError("a line ends inside an escape") }
        fields.append(try text(field))
        return fields
    }

    static func text(_ bytes: [UInt8]) throws(ControlCodecError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw ControlCodecError("a field is not UTF-8") }
        return text
    }
}
