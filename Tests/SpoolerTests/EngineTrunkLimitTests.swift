import CallFile
import EngineTestSupport
import Testing
@testable import Spooler

@Suite("Engine: per-trunk limits, live limit changes, stop")
struct EngineTrunkLimitTests {
    let t0 = EngineCoreKit.t0

    func call(_ trunk: String) -> String { callText(["Channel": "Sim/answer/0/5000/\(trunk)", "Application": "Wait"]) }

    @Test("A file whose trunk is full does not hold up a later-due file of another trunk; it goes first once its trunk frees")
    func fullTrunkDoesNotBlockOthers() {
        var kit = EngineCoreKit(trunks: [.init(pattern: "Sim/*/trunk-a", maxConcurrent: 1, maxPerSecond: 0)])
        kit.start()
        kit.submit("a1.call", call("trunk-a"), mtime: t0)
        kit.submit("a2.call", call("trunk-a"), mtime: t0.adding(.milliseconds(1)))
        kit.submit("b1.call", call("trunk-b"), mtime: t0.adding(.milliseconds(2)))
        kit.submit("a3.call", call("trunk-a"), mtime: t0.adding(.milliseconds(3)))
        let turn = kit.advance(by: .milliseconds(10))
        #expect(kit.dialled == ["a1.call", "b1.call"], "a2 (due earlier) must not block trunk-b")
        #expect(turn.contains(.debug(.parked(name: "a2.call", pattern: "Sim/*/trunk-a", limits: "max 1 in flight, no limit per second"))))
        #expect(kit.core.trunks.parkedCount == 2)
        #expect(kit.core.trunks.inFlight(rule: 0) == 1)
        #expect(kit.core.state(of: "a2.call") == .parked)
        // No StartRetry was written to the parked files: they were not attempted.
        #expect(kit.outgoing["a2.call"]?.text == call("trunk-a"))
        #expect(kit.wake == nil, "a trunk waiting for a slot is woken by the call that ends")
        kit.report("b1.call", .answered(channel: "x"), .hungUp)
        #expect(kit.dialled == ["a1.call", "b1.call"])
        kit.report("a1.call", .answered(channel: "x"), .hungUp)
        #expect(kit.dialled == ["a1.call", "b1.call", "a2.call"])
        kit.report("a2.call", .answered(channel: "x"), .hungUp)
        #expect(kit.dialled == ["a1.call", "b1.call", "a2.call", "a3.call"])
        #expect(kit.core.trunks.parkedCount == 0)
    }

    @Test("A trunk's rate spaces its own calls while another trunk's calls go at once")
    func trunkRate() {
        var kit = EngineCoreKit(trunks: [.init(pattern: "Sim/*/trunk-a", maxConcurrent: 0, maxPerSecond: 1)])
        kit.start()
        for name in ["a1", "a2", "a3", "b1", "b2"] {
            kit.submit(name + ".call", call(name.hasPrefix("a") ? "trunk-a" : "trunk-b"), mtime: t0)
        }
        kit.tick()
        // The rate bucket lets two go at once (a late slot's grace), then one per second.
        #expect(kit.dialled == ["a1.call", "a2.call", "b1.call", "b2.call"])
        #expect(kit.wake == t0.adding(seconds: 1))
        kit.advance(to: t0.adding(.milliseconds(999)))
        #expect(kit.dialled.count == 4)
        kit.advance(to: t0.adding(seconds: 1))
        #expect(kit.dialled.last == "a3.call")
    }

    @Test("Raising a limit while running lets waiting files go without touching the calls in flight")
    func applyLimits() {
        var kit = EngineCoreKit(maxConcurrent: 1, trunks: [.init(pattern: "Sim/*/trunk-a", maxConcurrent: 1, maxPerSecond: 0)])
        kit.start()
        kit.submit("a1.call", call("trunk-a"), mtime: t0)
        kit.submit("a2.call", call("trunk-a"), mtime: t0)
        kit.submit("b1.call", call("trunk-b"), mtime: t0)
        kit.tick()
        #expect(kit.dialled == ["a1.call"], "the global limit of 1 holds")
        let raised = kit.feed(.limits(EngineLimits(maxConcurrent: 0, maxCallsPerSecond: 0, trunks: [
            .init(pattern: "Sim/*/trunk-a", maxConcurrent: 2, maxPerSecond: 0),
        ])))
        #expect(raised == [.log(.notice, "limits now: no limit in flight, no limit per second globally; Sim/*/trunk-a: max 2 in flight, no limit per second")])
        kit.tick()
        #expect(Set(kit.dialled) == ["a1.call", "a2.call", "b1.call"])
        #expect(kit.core.limits.maxConcurrent == 0)
        #expect(kit.core.trunks.inFlight(rule: 0) == 2)
        // Lowering it below the calls in flight drops none of them: they all end normally.
        kit.feed(.limits(EngineLimits(maxConcurrent: 1, maxCallsPerSecond: 0, trunks: [])))
        for name in ["a1.call", "a2.call", "b1.call"] { kit.report(name, .answered(channel: "x"), .hungUp) }
        #expect(["a1.call", "a2.call", "b1.call"].allSatisfy { kit.finished($0)?.0 == .completed })
        #expect(kit.core.inFlight == 0)
    }

    @Test("A file parked behind a rule that a reload removes goes back to the schedule")
    func parkedRuleRemoved() {
        var kit = EngineCoreKit(trunks: [.init(pattern: "Sim/*/trunk-a", maxConcurrent: 1, maxPerSecond: 0)])
        kit.start()
        kit.submit("a1.call", call("trunk-a"), mtime: t0)
        kit.submit("a2.call", call("trunk-a"), mtime: t0)
        kit.tick()
        #expect(kit.core.state(of: "a2.call") == .parked)
        kit.feed(.limits(EngineLimits(maxConcurrent: 0, maxCallsPerSecond: 0, trunks: [])))
        #expect(kit.core.state(of: "a2.call") == .scheduled)
        kit.tick()
        #expect(kit.dialled == ["a1.call", "a2.call"])
    }

    @Test("Stop: no new attempt; calls in flight may end until shutdownGrace, then the engine stops and says what it left")
    func stopDrains() {
        var kit = EngineCoreKit()
        kit.start()
        kit.submit("up.call", callText(["Channel": "Sim/x", "Application": "Wait", "Archive": "yes"]))
        kit.submit("ends.call", callText(["Channel": "Sim/x", "Application": "Wait", "Archive": "yes"]))
        kit.tick()
        #expect(kit.feed(.stop) == [.log(.notice, "stopping: waiting up to 10.0 seconds for 2 calls in flight")])
        kit.submit("late.call", callText(["Channel": "Sim/x", "Application": "Wait"]))
        kit.tick()
        #expect(kit.wake == t0.adding(seconds: 10))
        kit.report("ends.call", .answered(channel: "x"), .hungUp)
        #expect(kit.moves.map(\.name) == ["ends.call"])
        kit.now = t0.adding(seconds: 10)
        #expect(kit.tick().last == .wait(until: nil), "the handed-off move is waited for")
        kit.report("up.call", .answered(channel: "x"), .hungUp)
        #expect(!kit.logged("[up.call] attempt 1 of 1 on Sim/x: answered"), "past the grace a call's end is left to the next start")
        let end = kit.completeMoves()
        #expect(kit.finished("ends.call")?.0 == .completed)
        #expect(end.suffix(3) == [
            .log(.warning, "stopping with 1 calls still in flight; their files keep their StartRetry record and are recovered at the next start (followed if still up, else counted as aborted)"),
            .log(.notice, "spoold stopped"), .stopped,
        ])
        #expect(kit.dialled == ["ends.call", "up.call"] || kit.dialled == ["up.call", "ends.call"])
        #expect(kit.feed(.change(.appeared("late.call"))).isEmpty)
    }
}
