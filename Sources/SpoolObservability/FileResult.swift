import CallFile
import Spooler

/// What became of one call file: a line of the result log, and what the on_finish hook is told.
public struct FileResult: Sendable, Equatable {
    public var file: String
    public var status: CallStatus
    /// The log's account of why, e.g. "Expired after 3 attempts".
    public var summary: String
    public var disposition: EngineEvent.Disposition
    /// The file's Channel, as dialled; nil when no attempt was made by this spoold.
    public var channel: String?
    /// The attempts this spoold saw end, oldest first; at most `ResultTracker.attemptsKept` of the latest.
    public var attempts: [AttemptReport]
    /// Older attempts left out of `attempts` to bound memory (a file with a huge MaxRetries).
    public var attemptsOmitted: Int
    public var finished: SpoolInstant

    public init(file: String, status: CallStatus, summary: String, disposition: EngineEvent.Disposition,
                channel: String?, attempts: [AttemptReport], attemptsOmitted: Int = 0, finished: SpoolInstant) {
        self.file = file
        self.status = status
        self.summary = summary
        self.disposition = disposition
        self.channel = channel
        self.attempts = attempts
        self.attemptsOmitted = attemptsOmitted
        self.finished = finished
    }

    /// The number of the last attempt seen (attempts made before a restart are counted in it).
    public var attemptCount: Int { attempts.last?.attempt ?? 0 }

    public var dispositionName: String {
        switch disposition {
        case .archived: return "archived"
        case .deleted: return "deleted"
        case .left: return "left"
        }
    }

    /// The name in `outgoing_done/`, when archived.
    public var archiveName: String? {
        if case .archived(let name) = disposition { return name }
        return nil
    }

    /// One line of JSON, newline included. Keys are snake_case; times are RFC 3339 UTC.
    public var jsonLine: [UInt8] {
        var object = JSONObject()
        object.add("file", file)
        object.add("status", status.rawValue)
        object.add("summary", summary)
        object.add("disposition", dispositionName)
        object.add("archive", archiveName)
        object.add("channel", channel)
        object.add("finished", finished.rfc3339)
        object.add("attempts", objects: attempts.map(Self.json))
        object.add("attempts_omitted", attemptsOmitted)
        return object.closed + [UInt8(ascii: "\n")]
    }

    static func json(_ attempt: AttemptReport) -> JSONObject {
        var object = JSONObject()
        object.add("attempt", attempt.attempt)
        object.add("uniqueid", attempt.channelId)
        object.add("start", attempt.started.rfc3339)
        object.add("end", attempt.ended.rfc3339)
        object.add("result", attempt.result.name)
        object.add("reason", attempt.result.reasonCode)
        object.add("reason_text", attempt.result.text)
        return object
    }
}

extension AttemptReport.Result {
    /// `answered`, `failed`, `rejected` or `aborted`.
    public var name: String {
        switch self {
        case .answered: return "answered"
        case .failed: return "failed"
        case .rejected: return "rejected"
        case .aborted: return "aborted"
        }
    }

    /// Asterisk's reason code (reference §6); nil when the PBX gave none.
    public var reasonCode: Int? {
        switch self {
        case .answered: return 4
        case .failed(let reason, _): return reason
        case .rejected, .aborted: return nil
        }
    }

    public var text: String {
        switch self {
        case .answered: return ReasonText.text(for: 4)
        case .failed(_, let text): return text
        case .rejected(let message): return message
        case .aborted: return "in flight when spoold stopped, and the call was gone at the next start"
        }
    }
}

/// Collects each file's attempts from the engine's events until the file finishes. Pure: the caller
/// feeds events in order and gets a result for every `finished` one.
public struct ResultTracker: Sendable {
    /// Per file, so that a file with a huge MaxRetries cannot grow spoold's memory without bound.
    public static let attemptsKept = 100

    private struct Pending {
        var attempts: [AttemptReport] = []
        var omitted = 0
    }

    private var pending: [String: Pending] = [:]

    public init() {}

    /// Files with attempts recorded and not yet finished.
    public var filesTracked: Int { pending.count }

    public mutating func consume(_ event: EngineEvent, now: SpoolInstant) -> FileResult? {
        switch event {
        case .attemptEnded(let report):
            var entry = pending[report.file, default: Pending()]
            entry.attempts.append(report)
            if entry.attempts.count > Self.attemptsKept {
                entry.attempts.removeFirst()
                entry.omitted += 1
            }
            pending[report.file] = entry
            return nil
        case .finished(let file, let status, let disposition, let summary):
            let entry = pending.removeValue(forKey: file) ?? Pending()
            return FileResult(file: file, status: status, summary: summary, disposition: disposition,
                              channel: entry.attempts.last?.channel, attempts: entry.attempts,
                              attemptsOmitted: entry.omitted, finished: now)
        case .forgotten(let file), .keptForReuse(let file, _):
            // Gone, or reused as a fresh call: its attempts belong to no result.
            pending[file] = nil
            return nil
        default:
            return nil
        }
    }
}
