import Spooler
import Synchronization

/// The daemon's current `StatusSnapshot`, shared between the event consumer (totals), the sampler (queue
/// and servers) and the HTTP endpoint (readers).
public final class StatusBoard: Sendable {
    private let state: Mutex<StatusSnapshot>

    public init(_ initial: StatusSnapshot) {
        state = Mutex(initial)
    }

    public var snapshot: StatusSnapshot { state.withLock { $0 } }

    /// Where the metrics endpoint was bound (known only after the board exists).
    public func setMetricsAddress(_ address: String) {
        state.withLock { $0.metricsAddress = address }
    }

    /// Counts finished files and ended attempts.
    public func record(_ event: EngineEvent) {
        switch event {
        case .attemptEnded:
            state.withLock { $0.attempts += 1 }
        case .finished(_, let status, _, _):
            state.withLock { $0.finished[status.rawValue, default: 0] += 1 }
        default:
            break
        }
    }

    /// Takes in a sample of the queue and the servers; returns the snapshot as it now stands.
    @discardableResult
    public func record(_ queue: QueueSnapshot, servers: [ServerConnection]) -> StatusSnapshot {
        state.withLock { snapshot in
            snapshot.queued = queue.due
            snapshot.scheduled = queue.scheduled
            snapshot.held = queue.held
            snapshot.nextDue = queue.nextDue.map { Double($0.nanoseconds) / 1e9 }
            snapshot.inFlight = queue.inFlight
            snapshot.backendReady = queue.backendReady
            snapshot.servers = servers
            return snapshot
        }
    }
}
