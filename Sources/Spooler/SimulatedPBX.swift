import SimulatedCalls
import Synchronization

/// A PBX inside spoold, for demos, tests and benchmarks: no Asterisk needed, outcomes chosen by the
/// channel. `Sim/<outcome>[/<ring-ms>[/<talk-ms>]]` with outcome `answer`, `busy`, `congestion`,
/// `noanswer` or `failure` (reasons 4, 5, 8, 3, 0). `noanswer` rings for the request's timeout, or for
/// ring-ms when that is shorter. Any other channel answers at once and hangs up at once.
public final class SimulatedPBX: CallBackend {
    /// What the simulated channel does: the outcome convention shared with the AMI test server,
    /// read from `Sim/...` channels only.
    public struct Plan: Sendable, Equatable {
        public var outcome: CallOutcome
        public var ring: Duration
        public var talk: Duration

        var answers: Bool { outcome.answers }
    }

    /// A simulated channel that exists: ringing, or answered and talking.
    private struct LiveCall {
        var answered = false
        /// The call's own task (nil for an instant call), and whether `hangUp(channelId:)` ended it.
        var task: Task<Void, Never>?
        var hungUpOnRequest = false
        /// Adopters waiting for its end; told whether it had been answered.
        var waiters: [CheckedContinuation<Bool, Never>] = []
    }

    private struct State {
        var up: [String: LiveCall] = [:]
        var placed: [CallRequest] = []
    }
    private let clock: any SpoolClock
    private let state: Mutex<State>
    private let recordsRequests: Bool

    /// `recordRequests` keeps every request for tests; leave it off for benchmarks.
    public init(clock: any SpoolClock, recordRequests: Bool = false) {
        self.clock = clock
        self.state = Mutex(State())
        self.recordsRequests = recordRequests
    }

    /// The requests placed so far (only when recording).
    public var placedRequests: [CallRequest] { state.withLock { $0.placed } }

    public static func plan(for request: CallRequest) -> Plan {
        let outcome = request.channel.hasPrefix("Sim/") ? CallOutcome(channel: request.channel) : CallOutcome(channel: "")
        let timeout = Int(request.timeout.components.seconds) * 1000
            + Int(request.timeout.components.attoseconds / 1_000_000_000_000_000)
        return Plan(outcome: outcome,
                    ring: .milliseconds(outcome.responseDelayMilliseconds(originateTimeout: timeout)),
                    talk: .milliseconds(outcome.answers ? outcome.talkMilliseconds : 0))
    }

    public var isReady: Bool { true }

    public func place(_ request: CallRequest) -> AsyncStream<CallStage> {
        let (stream, continuation) = AsyncStream.makeStream(of: CallStage.self)
        let call = start(request) { stage in
            if let stage { continuation.yield(stage) } else { continuation.finish() }
        }
        continuation.onTermination = { _ in call?.cancel() }
        return stream
    }

    public func place(_ request: CallRequest, report: @escaping CallReport) {
        _ = start(request, report: report)
    }

    /// Places the call; returns the task of a call that takes time, nil for an instant one (already over:
    /// the benchmark places thousands of those per second, so they stay synchronous).
    private func start(_ request: CallRequest, report: @escaping CallReport) -> Task<Void, Never>? {
        let plan = Self.plan(for: request)
        let id = request.channelId
        if recordsRequests { state.withLock { $0.placed.append(request) } }
        // An instant call is over before this returns, on the caller's thread: it is never listed as up, which
        // spares two locked table updates per call (every benchmark call is one).
        if plan.ring == .zero, plan.talk == .zero {
            report(.placed)
            reportEnd(plan, channel: request.channel, report)
            return nil
        }
        state.withLock { $0.up[id] = LiveCall() }
        report(.placed)
        // The call starts now, not when its task first runs: a test's clock may move meanwhile.
        let clock = self.clock
        let start = clock.now()
        let task = Task {
            do {
                try await clock.sleep(until: start.adding(plan.ring))
                if plan.answers {
                    self.markAnswered(id)
                    report(.answered(channel: request.channel))
                    try await clock.sleep(until: start.adding(plan.ring).adding(plan.talk))
                }
            } catch {
                // Hung up by `spoold cancel`: it ends as a hangup does (reason 1 while ringing). Otherwise
                // the process is stopping, and the simulated call dies with it.
                let call = self.state.withLock { $0.up[id] }
                self.hangUp(id)
                if let call, call.hungUpOnRequest {
                    report(call.answered ? .hungUp : .failed(reason: 1, text: ReasonText.text(for: 1)))
                }
                report(nil)
                return
            }
            self.finish(plan, id: id, channel: request.channel, report, answered: plan.answers)
        }
        // A hangUp that came before the task was stored finds no task to cancel, but leaves its flag.
        let hungUpMeanwhile = state.withLock { state -> Bool in
            state.up[id]?.task = task
            return state.up[id]?.hungUpOnRequest == true
        }
        if hungUpMeanwhile { task.cancel() }
        return task
    }

    /// Ends a simulated call before its time. A call that is over already is not an error.
    public func hangUp(channelId: String) async throws {
        let task = state.withLock { state -> Task<Void, Never>? in
            state.up[channelId]?.hungUpOnRequest = true
            return state.up[channelId]?.task
        }
        task?.cancel()
    }

    private func finish(_ plan: Plan, id: String, channel: String, _ report: CallReport, answered: Bool) {
        hangUp(id)
        reportEnd(plan, channel: channel, report, answered: answered)
    }

    /// The call's last stages, after it is no longer up.
    private func reportEnd(_ plan: Plan, channel: String, _ report: CallReport, answered: Bool = false) {
        if !plan.answers {
            let reason = plan.outcome.reason
            report(.failed(reason: reason, text: ReasonText.text(for: reason)))
        } else {
            if !answered { report(.answered(channel: channel)) }
            report(.hungUp)
        }
        report(nil)
    }

    private func markAnswered(_ id: String) {
        state.withLock { $0.up[id]?.answered = true }
    }

    private func hangUp(_ id: String) {
        guard let call = state.withLock({ $0.up.removeValue(forKey: id) }) else { return }
        for waiter in call.waiters { waiter.resume(returning: call.answered) }
    }

    public func channelExists(_ channelId: String) async -> Bool? {
        state.withLock { $0.up[channelId] != nil }
    }

    public func awaitHangup(of channelId: String) -> AsyncStream<CallStage> {
        AsyncStream { continuation in
            let task = Task {
                let answered = await withCheckedContinuation { (waiter: CheckedContinuation<Bool, Never>) in
                    let stillUp = state.withLock { state -> Bool in
                        guard state.up[channelId] != nil else { return false }
                        state.up[channelId]!.waiters.append(waiter)
                        return true
                    }
                    if !stillUp { waiter.resume(returning: false) }
                }
                if answered { continuation.yield(.answered(channel: channelId)) }
                continuation.yield(.hungUp)
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
