import Spooler

/// What `spoold status` shows: the daemon's identity, its queue, its servers and its totals. Written to
/// `<spool>/.spoold.status` and served at `/status` as JSON (snake_case keys, times in epoch seconds).
public struct StatusSnapshot: Sendable, Equatable, Codable {
    public var pid: Int
    public var spoolDirectory: String
    public var backend: String
    /// Epoch seconds.
    public var startedAt: Double
    /// Due now and waiting (for a slot, the rate limit or the backend).
    public var queued: Int
    /// Waiting for a future due time.
    public var scheduled: Int
    /// Of `scheduled`, the files a calling window holds until it opens (nil from a spoold without windows).
    public var held: Int?
    /// Epoch seconds of the earliest future due time.
    public var nextDue: Double?
    public var inFlight: Int
    public var backendReady: Bool
    public var servers: [ServerConnection]
    /// Files finished since start, by Status (`Completed`, `Expired`, `Failed`).
    public var finished: [String: Int]
    /// Attempts ended since start.
    public var attempts: Int
    /// `host:port` of the metrics endpoint, when it is served.
    public var metricsAddress: String?
    public var resultLog: String?

    enum CodingKeys: String, CodingKey {
        case pid, backend, queued, scheduled, held, servers, finished, attempts
        case spoolDirectory = "spool_dir"
        case startedAt = "started_at"
        case nextDue = "next_due"
        case inFlight = "in_flight"
        case backendReady = "backend_ready"
        case metricsAddress = "metrics_listen"
        case resultLog = "result_log"
    }

    public init(pid: Int, spoolDirectory: String, backend: String, startedAt: Double, queued: Int = 0,
                scheduled: Int = 0, nextDue: Double? = nil, inFlight: Int = 0, backendReady: Bool = false,
                servers: [ServerConnection] = [], finished: [String: Int] = [:], attempts: Int = 0,
                metricsAddress: String? = nil, resultLog: String? = nil, held: Int? = nil) {
        self.pid = pid
        self.spoolDirectory = spoolDirectory
        self.backend = backend
        self.startedAt = startedAt
        self.queued = queued
        self.scheduled = scheduled
        self.nextDue = nextDue
        self.inFlight = inFlight
        self.backendReady = backendReady
        self.servers = servers
        self.finished = finished
        self.attempts = attempts
        self.metricsAddress = metricsAddress
        self.resultLog = resultLog
        self.held = held
    }

    /// The short human summary `spoold status` prints, as of `now` (epoch seconds).
    public func summary(now: Double) -> String {
        var lines = ["spoold pid \(pid) on \(spoolDirectory) (backend \(backend)), up \(Self.span(now - startedAt))"]
        let waiting = queued == 0 ? "" : backendReady ? " (waiting for a free slot or the rate limit)" : " (waiting for the backend)"
        lines.append("  queued:     \(queued) due now\(waiting)")
        if let nextDue {
            let at = SpoolInstant(nanoseconds: Int64(nextDue * 1e9))
            lines.append("  scheduled:  \(scheduled), next due \(at.rfc3339) (in \(Self.span(nextDue - now)))")
        } else {
            lines.append("  scheduled:  \(scheduled)")
        }
        if let held, held > 0 { lines.append("  held:       \(held) by a calling window, until it opens") }
        lines.append("  in flight:  \(inFlight)")
        if servers.isEmpty {
            lines.append("  backend:    \(backendReady ? "ready" : "not ready")")
        }
        for server in servers {
            lines.append("  server \(server.name): \(server.connected ? "connected" : "disconnected")")
        }
        let statuses = ["Completed", "Expired", "Failed"]
        let total = finished.values.reduce(0, +)
        let byStatus = statuses.map { "\(finished[$0] ?? 0) \($0)" }.joined(separator: ", ")
        lines.append("  finished:   \(total) (\(byStatus)) after \(attempts) attempts")
        if let metricsAddress { lines.append("  metrics:    http://\(metricsAddress)/metrics") }
        if let resultLog { lines.append("  result log: \(resultLog)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `3d 4h 05m 06s`, leading zero units left out.
    static func span(_ seconds: Double) -> String {
        let total = max(0, Int(seconds.rounded(.down)))
        let (d, h, m, s) = (total / 86_400, total / 3600 % 24, total / 60 % 60, total % 60)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        if d > 0 { return "\(d)d \(h)h \(two(m))m \(two(s))s" }
        if h > 0 { return "\(h)h \(two(m))m \(two(s))s" }
        if m > 0 { return "\(m)m \(two(s))s" }
        return "\(s)s"
    }
}
