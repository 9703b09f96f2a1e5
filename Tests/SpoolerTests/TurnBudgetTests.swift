import Testing
@testable import Spooler

/// `TurnBudget`: files per turn, and when the loop wakes after a turn (facts in → time out).
@Suite("A turn of the loop")
struct TurnBudgetTests {
    static let now = SpoolInstant(seconds: 1_795_364_000)
    static let ready = SpoolStateMachine.Gate(ready: true, allowedAt: now)
    static let down = SpoolStateMachine.Gate(ready: false, allowedAt: nil)

    struct Case: Sendable, CustomTestStringConvertible {
        var label: String
        var nextDue: SpoolInstant?
        var sweepPending = false
        var gate = TurnBudgetTests.ready
        var limiter = CallLimiter(maxConcurrent: 0, maxPerSecond: 0)
        var trunks = TrunkLimits([])
        var backendWakesEngine = false
        var wake: SpoolInstant?
        var testDescription: String { label }
    }

    /// One call in flight at the limit of one.
    static var full: CallLimiter {
        var limiter = CallLimiter(maxConcurrent: 1, maxPerSecond: 0)
        limiter.start(now: now)
        return limiter
    }

    /// Two per second, two Originates booked now (the bucket lets one come an interval early): the next slot
    /// is half a second away.
    static var rated: CallLimiter {
        var limiter = CallLimiter(maxConcurrent: 0, maxPerSecond: 2)
        limiter.start(now: now)
        limiter.start(now: now)
        return limiter
    }

    /// A trunk of one call per second: two calls started now, a third file parked behind them.
    static var parked: TrunkLimits {
        var trunks = TrunkLimits([.init(pattern: "PJSIP/*", maxConcurrent: 0, maxPerSecond: 1)])
        trunks.start("a.call", channel: "PJSIP/1", now: now)
        trunks.start("a2.call", channel: "PJSIP/1", now: now)
        let rule = trunks.parkIfBlocked("b.call", channel: "PJSIP/2", due: now, now: now)
        precondition(rule != nil && trunks.hasParked, "the fixture parks b.call")
        return trunks
    }

    @Test("The wake-up time", arguments: [
        Case(label: "the next due file", nextDue: now.adding(seconds: 30), wake: now.adding(seconds: 30)),
        Case(label: "sweep pending: at once", nextDue: now.adding(seconds: 30), sweepPending: true, wake: now),
        Case(label: "nothing scheduled, sweep pending", sweepPending: true, wake: now),
        Case(label: "nothing to wait for", wake: nil),
        Case(label: "backend down: a look a second later", nextDue: now, gate: down, wake: now.adding(seconds: 1)),
        Case(label: "backend down but wakes the engine", nextDue: now, gate: down, backendWakesEngine: true, wake: nil),
        Case(label: "no free slot: a call's end is news", nextDue: now, limiter: full, wake: nil),
        Case(label: "the rate's next slot", nextDue: now, limiter: rated, wake: now.adding(.milliseconds(500))),
        Case(label: "the backend's own limit", nextDue: now, gate: .init(ready: true, allowedAt: now.adding(seconds: 2)),
             wake: now.adding(seconds: 2)),
        Case(label: "a parked file's trunk slot", trunks: parked, wake: now.adding(seconds: 1)),
        Case(label: "the earlier of a parked slot and the next due", nextDue: now.adding(seconds: 30), trunks: parked,
             wake: now.adding(seconds: 1)),
        Case(label: "parked, backend down: a look a second later", gate: down, trunks: parked, backendWakesEngine: true,
             wake: now.adding(seconds: 1)),
        Case(label: "parked, no free slot globally", limiter: full, trunks: parked, wake: nil),
    ])
    func wake(_ c: Case) {
        let wake = TurnBudget.wake(nextDue: c.nextDue, sweepPending: c.sweepPending, gate: c.gate, limiter: c.limiter,
                                   trunks: c.trunks, backendRetryDelay: .seconds(1), backendWakesEngine: c.backendWakesEngine,
                                   now: Self.now)
        #expect(wake == c.wake)
    }

    @Test("256 files make a full turn; the next turn starts empty")
    func budget() {
        var turn = TurnBudget()
        var taken = 0
        while turn.hasRoom {
            turn.took()
            taken += 1
        }
        #expect(taken == 256 && turn.isFull)
        turn.turnOver()
        #expect(turn.hasRoom && !turn.isFull && turn.filesTaken == 0)
    }
}
