import CallFile

/// The engine's wording that takes more than a line to build: pure functions of the core's values, kept
/// out of `SpoolStateMachine` so that its decisions read as decisions. Log lines and control answers
/// quote these texts; changing one changes what operators and scripts read.
enum EngineWording {
    /// `attempt 2 of 3 on PJSIP/100@trunk`, as log lines name an attempt.
    static func attempt(_ attempt: CallAttempt) -> String {
        Self.attempt(attempt.number, of: attempt.file.maxRetries + 1, on: attempt.file.channel)
    }

    static func attempt(_ number: Int, of allowed: Int, on channel: Channel?) -> String {
        "attempt \(number) of \(allowed) on \(channel?.description ?? "?")"
    }

    /// How an attempt ended: `answered`, `failed, reason 5 (busy)`, `refused by the PBX: …`, `not placed (…)`.
    static func outcome(_ outcome: CallAttempt.Outcome) -> String {
        switch outcome {
        case .completed: "answered"
        case .failed(let reason, let text): "failed, reason \(reason) (\(text))"
        case .rejected(let message): "refused by the PBX: \(message)"
        case .notPlaced(let message): "not placed (\(message))"
        }
    }

    /// `max 10 in flight, no limit per second`: one set of limits, global or a trunk's.
    static func limits(_ maxConcurrent: Int, _ maxPerSecond: Double) -> String {
        let concurrent = maxConcurrent > 0 ? "max \(maxConcurrent) in flight" : "no limit in flight"
        let rate = maxPerSecond <= 0 ? "no limit per second" : "max \(SpoolStateMachine.number(maxPerSecond)) per second"
        return concurrent + ", " + rate
    }

    /// The reload's log line: the global limits, each trunk's, and a summary of the calling rules.
    static func limitsNow(_ limits: EngineLimits) -> String {
        let trunks = limits.trunks.isEmpty ? "no per-trunk limits"
            : limits.trunks.map { "\($0.pattern): \(Self.limits($0.maxConcurrent, $0.maxPerSecond))" }.joined(separator: "; ")
        return "limits now: \(Self.limits(limits.maxConcurrent, limits.maxCallsPerSecond)) globally; \(trunks)\(limits.callingRules.summary)"
    }

    /// The `spoold ready` line: how many files wait, where, and the global limits.
    static func ready(scheduled: Int, in settings: SpoolStateMachine.Settings, _ limiter: CallLimiter) -> String {
        let concurrent = limiter.maxConcurrent > 0 ? String(limiter.maxConcurrent) : "unlimited"
        let rate = limiter.maxPerSecond <= 0 ? "unlimited" : SpoolStateMachine.number(limiter.maxPerSecond)
        return "spoold ready: \(scheduled) call files scheduled in \(settings.outgoingPath) (pid \(settings.pid), "
            + "max \(concurrent) calls in flight, max \(rate) calls per second)"
    }

    /// A debug line, built only when the log level asks for it.
    static func debug(_ line: SpoolStateMachine.DebugLine) -> String {
        switch line {
        case .dialling(let name, let number, let allowed, let channel, let id):
            "[\(name)] \(attempt(number, of: allowed, on: channel)): dialling (ChannelId \(id))"
        case .parked(let name, let pattern, let limits):
            "[\(name)] due, but the limit for \(pattern) is reached (\(limits)); it waits for that trunk while other calls go on"
        }
    }

    /// A control request names a file the engine does not know.
    static func unknown(_ name: String) -> String {
        "spoold knows no call file named '\(name)' in outgoing/ (finished already, never there, or a dot-file)"
    }

    /// Why a file in `state` cannot be `cancelled` or `rescheduled` now.
    static func whyNot(_ state: SpoolStateMachine.FileState, _ verb: String) -> String {
        switch state {
        case .dialling(let attempt): "\(Self.attempt(attempt)) is in flight; only a waiting file can be \(verb)"
        case .starting: "its attempt is being started; try again in a moment"
        case .checking: "an attempt the last stop interrupted is being looked for on the PBX; try again in a moment"
        case .cancelling: "it is being cancelled already"
        case .skipped: "it is not a call file (spoold never opens it)"
        case .departed: "it is finished and has left outgoing/"
        case .ending, .keeping, .finishing, .moving, .finishRetry: "it is finishing (its last attempt ended)"
        case .scheduled, .parked, .due, .held: "it is waiting"
        }
    }
}
