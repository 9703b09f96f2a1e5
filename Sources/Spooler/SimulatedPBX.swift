import Synchronization

/// A PBX inside spoold, for demos, tests and benchmarks: no Asterisk needed, outcomes chosen by the
/// channel. `Sim/<outcome>[/<ring-ms>[/<talk-ms>]]` with outcome `answer`, `busy`, `congestion`,
/// `noanswer` or `failure` (reasons 4, 5, 8, 3, 0). `noanswer` rings for the request's timeout unless
/// ring-ms is given. Any other channel answers at once and hangs up at once.
public final class SimulatedPBX: CallBackend {
    public enum Outcome: String, Sendable {
        case answer, busy, congestion, noanswer, failure

        var failureReason: Int? {
            switch self {
            case .answer: return nil
            case .busy: return 5
            case .congestion: return 8
            case .noanswer: return 3
            case .failure: return 0
            }
        }
    }

    /// What the simulated channel does.
    public struct Plan: Sendable, Equatable {
        public var outcome: Outcome
        public var ring: Duration
        public var talk: Duration
    }

    private struct State {
        var up: [String: [CheckedContinuation<Void, Never>]] = [:]
        var placed: [CallRequest] = []
        var recordsRequests: Bool
    }
    private let clock: any SpoolClock
    private let state: Mutex<State>

    /// `recordRequests` keeps every request for tests; leave it off for benchmarks.
    public init(clock: any SpoolClock, recordRequests: Bool = false) {
        self.clock = clock
        self.state = Mutex(State(recordsRequests: recordRequests))
    }

    /// The requests placed so far (only when recording).
    public var placedRequests: [CallRequest] { state.withLock { $0.placed } }

    public static func plan(for request: CallRequest) -> Plan {
        let parts = request.channel.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == "Sim", let outcome = Outcome(rawValue: String(parts[1])) else {
            return Plan(outcome: .answer, ring: .zero, talk: .zero)
        }
        func milliseconds(_ index: Int) -> Duration? {
            guard parts.count > index, let ms = Int(parts[index]), ms >= 0 else { return nil }
            return .milliseconds(ms)
        }
        let defaultRing: Duration = outcome == .noanswer ? request.timeout : .zero
        return Plan(outcome: outcome, ring: milliseconds(2) ?? defaultRing, talk: milliseconds(3) ?? .zero)
    }

    public var isReady: Bool { true }

    public func place(_ request: CallRequest) -> AsyncStream<CallStage> {
        let plan = Self.plan(for: request)
        let id = request.channelId
        state.withLock { state in
            if state.recordsRequests { state.placed.append(request) }
            state.up[id] = []
        }
        let (stream, continuation) = AsyncStream.makeStream(of: CallStage.self)
        continuation.yield(.placed)
        // Instant calls stay synchronous: the benchmark places thousands of them per second.
        if plan.ring == .zero, plan.talk == .zero {
            finish(plan, id: id, channel: request.channel, continuation)
            return stream
        }
        let clock = self.clock
        let task = Task {
            let start = clock.now()
            do {
                try await clock.sleep(until: start.adding(plan.ring))
                if plan.outcome == .answer {
                    continuation.yield(.answered(channel: request.channel))
                    try await clock.sleep(until: start.adding(plan.ring).adding(plan.talk))
                }
            } catch {
                // Cancelled: the process is stopping, and the simulated call dies with it.
                self.hangUp(id)
                continuation.finish()
                return
            }
            self.finish(plan, id: id, channel: request.channel, continuation, answered: plan.outcome == .answer)
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func finish(_ plan: Plan, id: String, channel: String, _ continuation: AsyncStream<CallStage>.Continuation, answered: Bool = false) {
        hangUp(id)
        if let reason = plan.outcome.failureReason {
            continuation.yield(.failed(reason: reason, text: ReasonText.text(for: reason)))
        } else {
            if !answered { continuation.yield(.answered(channel: channel)) }
            continuation.yield(.hungUp)
        }
        continuation.finish()
    }

    private func hangUp(_ id: String) {
        let waiters = state.withLock { $0.up.removeValue(forKey: id) } ?? []
        for waiter in waiters { waiter.resume() }
    }

    public func channelExists(_ channelId: String) async -> Bool? {
        state.withLock { $0.up[channelId] != nil }
    }

    public func awaitHangup(of channelId: String) -> AsyncStream<CallStage> {
        AsyncStream { continuation in
            let task = Task {
                await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                    let stillUp = state.withLock { state -> Bool in
                        guard state.up[channelId] != nil else { return false }
                        state.up[channelId]!.append(waiter)
                        return true
                    }
                    if !stillUp { waiter.resume() }
                }
                continuation.yield(.hungUp)
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
