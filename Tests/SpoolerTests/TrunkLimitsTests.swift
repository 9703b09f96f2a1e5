import Testing
@testable import Spooler

@Suite("Channel patterns")
struct ChannelPatternTests {
    @Test("* matches any run (slashes and @ included), ? one character, the rest literally", arguments: [
        ("PJSIP/*@trunk-a", "PJSIP/100@trunk-a", true),
        ("PJSIP/*@trunk-a", "PJSIP/100@trunk-b", false),
        ("PJSIP/*@trunk-a", "PJSIP/@trunk-a", true),
        ("PJSIP/*@trunk-a", "pjsip/100@trunk-a", false),
        ("PJSIP/*", "PJSIP/a/b@c", true),
        ("SIP/gw?/*", "SIP/gw1/555", true),
        ("SIP/gw?/*", "SIP/gw12/555", false),
        ("*", "", true),
        ("", "", true),
        ("", "x", false),
        ("Local/*@from-*", "Local/5@from-internal", true),
        ("*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
        ("exact", "exact", true),
        ("exact", "exactly", false),
    ])
    func glob(pattern: String, channel: String, matches: Bool) {
        #expect(ChannelPattern(pattern).matches(channel) == matches)
    }
}

@Suite("Per-trunk limits")
struct TrunkLimitsTests {
    let t0 = SpoolInstant(seconds: 1_000)
    let a = "PJSIP/1@trunk-a"
    let b = "PJSIP/1@trunk-b"

    func limits(_ rules: TrunkLimits.Rule...) -> TrunkLimits { TrunkLimits(rules) }
    func noStale(_: String) -> Bool { false }

    @Test("No matching rule: never blocked, nothing counted")
    func unmatched() {
        var trunks = limits(.init(pattern: "PJSIP/*@trunk-a", maxConcurrent: 1, maxPerSecond: 0))
        for i in 0..<100 {
            #expect(trunks.parkIfBlocked("f\(i)", channel: b, due: t0, now: t0) == nil)
            trunks.start("f\(i)", channel: b, now: t0)
        }
        #expect(trunks.inFlight(rule: 0) == 0)
        #expect(!trunks.hasParked)
    }

    @Test("At most N in flight per pattern; a finish frees the slot for the earliest parked file")
    func concurrency() {
        var trunks = limits(.init(pattern: "PJSIP/*@trunk-a", maxConcurrent: 2, maxPerSecond: 0))
        trunks.start("f1", channel: a, now: t0)
        trunks.start("f2", channel: a, now: t0)
        #expect(trunks.parkIfBlocked("f4", channel: a, due: t0.adding(seconds: 4), now: t0)?.pattern.text == "PJSIP/*@trunk-a")
        #expect(trunks.parkIfBlocked("f3", channel: a, due: t0.adding(seconds: 3), now: t0) != nil)
        #expect(trunks.parkedCount == 2)
        #expect(trunks.takeReleasable(now: t0, isStale: noStale) == nil, "full")
        #expect(trunks.nextRelease(now: t0) == nil, "only a finish can free it")
        trunks.finish("f1")
        #expect(trunks.inFlight(rule: 0) == 1)
        #expect(trunks.nextRelease(now: t0) == t0)
        #expect(trunks.takeReleasable(now: t0, isStale: noStale)?.name == "f3", "due order, not parking order")
        trunks.start("f3", channel: a, now: t0)
        #expect(trunks.takeReleasable(now: t0, isStale: noStale) == nil)
        trunks.finish("f2")
        trunks.finish("f2")  // a second finish of the same file changes nothing
        #expect(trunks.inFlight(rule: 0) == 1)
        #expect(trunks.takeReleasable(now: t0, isStale: noStale)?.name == "f4")
        #expect(!trunks.hasParked)
    }

    @Test("At most R new calls per second per pattern, on the injected clock")
    func rate() {
        var trunks = limits(.init(pattern: "PJSIP/*@trunk-a", maxConcurrent: 0, maxPerSecond: 2))
        var now = t0
        var starts: [SpoolInstant] = []
        var pending = (0..<6).map { "f\($0)" }
        for name in pending where trunks.parkIfBlocked(name, channel: a, due: t0, now: now) == nil {
            trunks.start(name, channel: a, now: now)
            starts.append(now)
        }
        pending.removeFirst(starts.count)
        while trunks.hasParked {
            now = trunks.nextRelease(now: now)!
            let next = trunks.takeReleasable(now: now, isStale: noStale)!
            #expect(next.name == pending.removeFirst())
            trunks.start(next.name, channel: a, now: now)
            starts.append(now)
        }
        // The GCRA bucket: two at once (one late slot's grace), then 500 ms apart.
        #expect(starts == [t0, t0] + (1...4).map { t0.adding(.milliseconds(500 * $0)) })
    }

    @Test("A full trunk never blocks another trunk")
    func independent() {
        var trunks = limits(.init(pattern: "PJSIP/*@trunk-a", maxConcurrent: 1, maxPerSecond: 0),
                            .init(pattern: "PJSIP/*@trunk-b", maxConcurrent: 1, maxPerSecond: 0))
        trunks.start("a1", channel: a, now: t0)
        #expect(trunks.parkIfBlocked("a2", channel: a, due: t0, now: t0) != nil)
        #expect(trunks.parkIfBlocked("b1", channel: b, due: t0, now: t0) == nil)
        trunks.start("b1", channel: b, now: t0)
        #expect(trunks.inFlight(rule: 0) == 1)
        #expect(trunks.inFlight(rule: 1) == 1)
        trunks.finish("b1")
        #expect(trunks.takeReleasable(now: t0, isStale: noStale) == nil, "trunk-a is still full")
    }

    @Test("A call counts against every pattern it matches")
    func overlapping() {
        var trunks = limits(.init(pattern: "PJSIP/*", maxConcurrent: 2, maxPerSecond: 0),
                            .init(pattern: "PJSIP/*@trunk-a", maxConcurrent: 5, maxPerSecond: 0))
        trunks.start("a1", channel: a, now: t0)
        trunks.start("b1", channel: b, now: t0)
        #expect(trunks.inFlight(rule: 0) == 2)
        #expect(trunks.inFlight(rule: 1) == 1)
        #expect(trunks.blockingRule(for: a, now: t0)?.pattern.text == "PJSIP/*")
        #expect(trunks.blockingRule(for: "SIP/x", now: t0) == nil)
    }

    @Test("An adopted call holds a slot but uses no rate")
    func adopt() {
        var trunks = limits(.init(pattern: "PJSIP/*@trunk-a", maxConcurrent: 1, maxPerSecond: 1))
        trunks.adopt("old", channel: a)
        #expect(trunks.blockingRule(for: a, now: t0) != nil)
        trunks.finish("old")
        #expect(trunks.blockingRule(for: a, now: t0) == nil)
    }

    @Test("Stale parked entries are dropped, and a later-due parked file waits for a scheduled earlier one")
    func staleAndDueBy() {
        var trunks = limits(.init(pattern: "PJSIP/*@trunk-a", maxConcurrent: 1, maxPerSecond: 0))
        trunks.start("x", channel: a, now: t0)
        _ = trunks.parkIfBlocked("gone", channel: a, due: t0, now: t0)
        _ = trunks.parkIfBlocked("kept", channel: a, due: t0.adding(seconds: 2), now: t0)
        trunks.finish("x")
        #expect(trunks.takeReleasable(now: t0.adding(seconds: 5), dueBy: t0.adding(seconds: 1)) { $0 == "gone" } == nil)
        #expect(trunks.parkedCount == 1, "the stale entry went, the later one stays")
        #expect(trunks.takeReleasable(now: t0.adding(seconds: 5), dueBy: t0.adding(seconds: 2), isStale: noStale)?.name == "kept")
    }

    @Test("Parking a file again replaces its earlier place")
    func reparking() {
        var trunks = limits(.init(pattern: "PJSIP/*@trunk-a", maxConcurrent: 1, maxPerSecond: 0))
        trunks.start("x", channel: a, now: t0)
        _ = trunks.parkIfBlocked("f", channel: a, due: t0, now: t0)
        _ = trunks.parkIfBlocked("f", channel: a, due: t0, now: t0)
        #expect(trunks.parkedCount == 1)
        trunks.remove("f")
        #expect(!trunks.hasParked)
    }

    @Test("New rules keep surviving patterns' parked files and rate, and recount new ones from the calls in flight")
    func replaceRules() {
        var trunks = limits(.init(pattern: "PJSIP/*@trunk-a", maxConcurrent: 1, maxPerSecond: 0),
                            .init(pattern: "PJSIP/*@trunk-b", maxConcurrent: 1, maxPerSecond: 0))
        trunks.start("a1", channel: a, now: t0)
        trunks.start("b1", channel: b, now: t0)
        _ = trunks.parkIfBlocked("a2", channel: a, due: t0, now: t0)
        _ = trunks.parkIfBlocked("b2", channel: b, due: t0, now: t0)
        let released = trunks.replaceRules([
            .init(pattern: "PJSIP/*@trunk-a", maxConcurrent: 2, maxPerSecond: 0),
            .init(pattern: "PJSIP/*", maxConcurrent: 3, maxPerSecond: 0),
        ])
        #expect(released.map(\.name) == ["b2"], "trunk-b has no rule any more")
        #expect(trunks.inFlight(rule: 0) == 1)
        #expect(trunks.inFlight(rule: 1) == 2, "PJSIP/* counts both calls already in flight")
        #expect(trunks.takeReleasable(now: t0, isStale: noStale)?.name == "a2", "the raised limit lets it go")
        trunks.finish("a1")
        trunks.finish("b1")
        #expect(trunks.inFlight(rule: 0) == 0)
        #expect(trunks.inFlight(rule: 1) == 0)
    }
}

@Suite("Changing the global limits")
struct CallLimiterChangeTests {
    let t0 = SpoolInstant(seconds: 1_000)

    @Test("Calls in flight keep their slots when the limit goes down")
    func lowerConcurrency() {
        var limiter = CallLimiter(maxConcurrent: 5, maxPerSecond: 0)
        for _ in 0..<4 { limiter.start(now: t0) }
        limiter.setLimits(maxConcurrent: 2, maxPerSecond: 0)
        #expect(limiter.inFlight == 4)
        #expect(!limiter.canStart(now: t0))
        limiter.finish(); limiter.finish()
        #expect(!limiter.canStart(now: t0))
        limiter.finish()
        #expect(limiter.canStart(now: t0))
    }

    @Test("A new rate goes on from the last booked Originate, never with a burst")
    func rateChange() {
        var limiter = CallLimiter(maxConcurrent: 0, maxPerSecond: 1)
        limiter.start(now: t0)
        limiter.start(now: t0)  // booked the slot at t0+1 s
        #expect(limiter.nextAllowed(now: t0) == t0.adding(seconds: 1))
        limiter.setLimits(maxConcurrent: 0, maxPerSecond: 4)
        #expect(limiter.nextAllowed(now: t0) == t0.adding(seconds: 1), "the slot already booked stays booked")
        limiter.start(now: t0.adding(seconds: 1))
        #expect(limiter.nextAllowed(now: t0.adding(seconds: 1)) == t0.adding(.milliseconds(1_250)), "then 1/4 s apart")
        limiter.setLimits(maxConcurrent: 0, maxPerSecond: 0)
        #expect(limiter.canStart(now: t0), "0 = no limit")
        limiter.setLimits(maxConcurrent: 0, maxPerSecond: 2)
        #expect(limiter.canStart(now: t0), "from no limit: the bucket starts fresh")
    }
}
