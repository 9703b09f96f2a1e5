import Testing
@testable import Spooler

/// A scheduler with its owner's table of stamps, kept the way `SpoolStateMachine` keeps them in `files`.
struct StampedSchedule {
    var scheduler = Scheduler()
    var stamps: [String: Scheduler.Stamp] = [:]

    @discardableResult
    mutating func upsert(_ name: String, due: SpoolInstant) -> Bool { scheduler.upsert(name, due: due, stamp: &stamps[name, default: .none]) }
    mutating func remove(_ name: String) { scheduler.remove(&stamps[name, default: .none]) }
    mutating func popDue(now: SpoolInstant) -> String? { scheduler.popDue(now: now, in: &stamps) }
    mutating func nextDue() -> SpoolInstant? { scheduler.nextDue(in: stamps) }
    func due(of name: String) -> SpoolInstant? { stamps[name].flatMap { $0.isScheduled ? $0.due : nil } }
    var count: Int { scheduler.count }
    var isEmpty: Bool { scheduler.isEmpty }
}

@Suite("Scheduler")
struct SchedulerTests {
    let t0 = SpoolInstant(seconds: 1_795_364_000)

    @Test("Files come due in mtime order, sub-second precision kept, ties first come first served")
    func order() {
        var scheduler = StampedSchedule()
        scheduler.upsert("c", due: t0.adding(.milliseconds(500)))
        scheduler.upsert("a", due: t0)
        scheduler.upsert("b", due: t0)
        scheduler.upsert("d", due: t0.adding(.milliseconds(499)))
        var popped: [String] = []
        while let name = scheduler.popDue(now: t0.adding(.seconds(1))) { popped.append(name) }
        #expect(popped == ["a", "b", "d", "c"])
        #expect(scheduler.isEmpty)
    }

    @Test("Nothing is popped before its due time")
    func notBeforeDue() {
        var scheduler = StampedSchedule()
        scheduler.upsert("a", due: t0.adding(.nanoseconds(1)))
        #expect(scheduler.popDue(now: t0) == nil)
        #expect(scheduler.nextDue() == t0.adding(.nanoseconds(1)))
        #expect(scheduler.popDue(now: t0.adding(.nanoseconds(1))) == "a")
        #expect(scheduler.nextDue() == nil)
    }

    @Test("Rescheduling moves a file both ways and leaves one live entry")
    func reschedule() {
        var scheduler = StampedSchedule()
        scheduler.upsert("a", due: t0.adding(seconds: 10))
        scheduler.upsert("b", due: t0.adding(seconds: 5))
        scheduler.upsert("a", due: t0.adding(seconds: 1))   // touched earlier
        #expect(scheduler.nextDue() == t0.adding(seconds: 1))
        scheduler.upsert("a", due: t0.adding(seconds: 20))  // touched later
        #expect(scheduler.count == 2)
        #expect(scheduler.popDue(now: t0.adding(seconds: 10)) == "b")
        #expect(scheduler.popDue(now: t0.adding(seconds: 10)) == nil, "a fired at an old time")
        #expect(scheduler.popDue(now: t0.adding(seconds: 20)) == "a")
        #expect(scheduler.popDue(now: t0.adding(seconds: 99)) == nil, "a fired twice")
    }

    @Test("Upserting the same time reports no change")
    func sameTime() {
        var scheduler = StampedSchedule()
        let first = scheduler.upsert("a", due: t0)
        let same = scheduler.upsert("a", due: t0)
        let moved = scheduler.upsert("a", due: t0.adding(.nanoseconds(1)))
        #expect(first && !same && moved)
    }

    @Test("A removed file never fires, and a new schedule of the same name fires only at its own time")
    func removeThenReuseName() {
        var scheduler = StampedSchedule()
        scheduler.upsert("a", due: t0)
        scheduler.remove("a")
        #expect(scheduler.popDue(now: t0.adding(seconds: 1)) == nil)
        scheduler.upsert("a", due: t0.adding(seconds: 30))
        #expect(scheduler.popDue(now: t0.adding(seconds: 1)) == nil)
        #expect(scheduler.due(of: "a") == t0.adding(seconds: 30))
        #expect(scheduler.popDue(now: t0.adding(seconds: 30)) == "a")
    }

    @Test("Many touches of the same files keep the heap bounded and the answers right")
    func compaction() {
        var scheduler = StampedSchedule()
        for round in 0..<50 {
            for file in 0..<100 {
                scheduler.upsert("f\(file)", due: t0.adding(seconds: 1000 - round * 10 + file))
            }
        }
        #expect(scheduler.count == 100)
        var popped: [String] = []
        while let name = scheduler.popDue(now: t0.adding(seconds: 10_000)) { popped.append(name) }
        #expect(popped == (0..<100).map { "f\($0)" })
    }

    @Test("A pop takes the name's stamp off too; a name its owner dropped never fires")
    func stampsFollowTheSchedule() {
        var scheduler = StampedSchedule()
        scheduler.upsert("a", due: t0)
        scheduler.upsert("b", due: t0.adding(seconds: 1))
        scheduler.upsert("c", due: t0.adding(seconds: 2))
        #expect(scheduler.count == 3)
        #expect(scheduler.popDue(now: t0) == "a")
        #expect(scheduler.stamps["a"] == Scheduler.Stamp.none && scheduler.count == 2, "popped, but still stamped")
        var dropped = scheduler.stamps.removeValue(forKey: "b")!  // the owner drops the name with its stamp
        scheduler.scheduler.remove(&dropped)
        scheduler.remove("c")
        #expect(scheduler.count == 0 && scheduler.isEmpty)
        #expect(scheduler.popDue(now: t0.adding(seconds: 5)) == nil, "a name no longer stamped fired")
        #expect(scheduler.nextDue() == nil)
        scheduler.upsert("c", due: t0.adding(seconds: 3))
        #expect(scheduler.count == 1 && scheduler.nextDue() == t0.adding(seconds: 3))
    }
}

@Suite("Call limits")
struct CallLimiterTests {
    let t0 = SpoolInstant(seconds: 1_795_364_000)

    @Test("No limits: always allowed")
    func unlimited() {
        var limiter = CallLimiter(maxConcurrent: 0, maxPerSecond: 0)
        for _ in 0..<10_000 {
            #expect(limiter.canStart(now: t0))
            limiter.start(now: t0)
        }
        #expect(limiter.inFlight == 10_000)
    }

    @Test("At most maxConcurrent in flight; a finished attempt frees its slot")
    func concurrency() {
        var limiter = CallLimiter(maxConcurrent: 2, maxPerSecond: 0)
        limiter.start(now: t0)
        limiter.start(now: t0)
        #expect(!limiter.canStart(now: t0))
        #expect(!limiter.hasFreeSlot)
        limiter.finish()
        #expect(limiter.canStart(now: t0))
        limiter.adopt()
        #expect(!limiter.canStart(now: t0), "an adopted call holds a slot too")
    }

    @Test("A rate of R spaces Originates 1/R apart after a burst of at most two")
    func rate() {
        var limiter = CallLimiter(maxConcurrent: 0, maxPerSecond: 10)
        var now = t0
        var starts: [SpoolInstant] = []
        while starts.count < 21 {
            if limiter.canStart(now: now) {
                limiter.start(now: now)
                starts.append(now)
            } else {
                now = limiter.nextAllowed(now: now)
            }
        }
        #expect(starts[0] == t0 && starts[1] == t0)
        for i in 2..<starts.count {
            #expect(starts[i].duration(since: starts[i - 1]) == .milliseconds(100))
        }
        // In any window of one second: at most R + 1.
        for i in 0..<starts.count {
            let inWindow = starts.filter { $0 >= starts[i] && $0 < starts[i].adding(.seconds(1)) }.count
            #expect(inWindow <= 11)
        }
    }

    @Test("Waking up late (less than one interval) does not lower the rate")
    func lateWakeUps() {
        var limiter = CallLimiter(maxConcurrent: 0, maxPerSecond: 50)
        var now = t0
        var count = 0
        let end = t0.adding(.seconds(10))
        while now < end {
            if limiter.canStart(now: now) {
                limiter.start(now: now)
                count += 1
            } else {
                now = limiter.nextAllowed(now: now).adding(.milliseconds(7))  // every wake-up 7 ms late
            }
        }
        #expect(count >= 499 && count <= 502, "\(count) Originates in 10 s at 50/s")
    }
}
