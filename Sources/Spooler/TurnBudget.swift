/// One turn of the engine's loop, and the sleep after it. A turn starts at most `filesPerTurn` due files, so
/// that ended calls and archives go on during a burst; a full turn comes back at once, after the news that came
/// meanwhile. Otherwise the loop sleeps until the first moment something can happen without news: the next due
/// file (at once while the start-up sweep has names left), the next slot the limits allow (globally, or for a
/// trunk with parked files), the next look at a backend that cannot take calls and does not wake the engine
/// itself. A call that ends is news, so a limit waiting for a free slot needs no wake-up time.
///
/// A type of its own so that the wake-up time is tested case by case (`TurnBudgetTests`) rather than through
/// whole runs; pure, the facts come in as arguments.
struct TurnBudget: Sendable {
    /// Due files started per turn at most.
    static let filesPerTurn = 256

    private(set) var filesTaken = 0

    var hasRoom: Bool { filesTaken < Self.filesPerTurn }
    var isFull: Bool { filesTaken == Self.filesPerTurn }

    mutating func took() { filesTaken += 1 }
    mutating func turnOver() { filesTaken = 0 }

    /// When the loop wakes after a turn that was not full (nil: only when news arrives). `nextDue`: the earliest
    /// scheduled file; `sweepPending`: the start-up sweep has names left; `backendRetryDelay`: how long a
    /// backend that cannot take calls is left before the next look, unless `backendWakesEngine`.
    static func wake(nextDue: SpoolInstant?, sweepPending: Bool, gate: SpoolStateMachine.Gate, limiter: CallLimiter,
                     trunks: TrunkLimits, backendRetryDelay: Duration, backendWakesEngine: Bool,
                     now: SpoolInstant) -> SpoolInstant? {
        var scheduled: SpoolInstant?
        if let due = nextDue {
            if due > now {
                scheduled = sweepPending ? now : due
            } else if !gate.ready {
                scheduled = backendWakesEngine ? nil : now.adding(backendRetryDelay)
            } else if limiter.hasFreeSlot, let allowed = gate.allowedAt {
                scheduled = max(limiter.nextAllowed(now: now), allowed)
            }
        } else if sweepPending {
            scheduled = now
        }
        var parked: SpoolInstant?
        if trunks.hasParked {
            if !gate.ready {
                parked = now.adding(backendRetryDelay)
            } else if limiter.hasFreeSlot, let release = trunks.nextRelease(now: now) {
                parked = max(release, limiter.nextAllowed(now: now))
            }
        }
        guard let scheduled else { return parked }
        return parked.map { min($0, scheduled) } ?? scheduled
    }
}
