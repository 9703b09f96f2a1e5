import CallFile
import Testing
@testable import Spooler

@Suite("Engine: per-trunk limits and live limit changes")
struct EngineTrunkLimitTests {
    let t0 = EngineHarness.t0

    /// A simulated call on "trunk" `trunk` (the simulate backend ignores the fifth part of the channel).
    func call(_ trunk: String, talkMilliseconds: Int = 5_000) -> String {
        callText(["Channel": "Sim/answer/0/\(talkMilliseconds)/\(trunk)", "Application": "Wait"])
    }

    @Test("A file whose trunk is full does not hold up a later-due file of another trunk; it goes first once its trunk frees")
    func fullTrunkDoesNotBlockOthers() async throws {
        let harness = try EngineHarness { $0.trunkLimits = [.init(pattern: "Sim/*/trunk-a", maxConcurrent: 1, maxPerSecond: 0)] }
        try await harness.start()
        try harness.submit("a1.call", call("trunk-a"), mtime: t0)
        try harness.submit("a2.call", call("trunk-a"), mtime: t0.adding(.milliseconds(1)))
        try harness.submit("b1.call", call("trunk-b"), mtime: t0.adding(.milliseconds(2)))
        try harness.submit("a3.call", call("trunk-a"), mtime: t0.adding(.milliseconds(3)))
        await harness.advance(by: .milliseconds(10), sleepers: 0)
        #expect(try await EngineSchedulingTests.nextStart(harness) == "a1.call")
        #expect(try await EngineSchedulingTests.nextStart(harness) == "b1.call", "a2 (due earlier) must not block trunk-b")
        await waitForSleepers(harness.clock, 2)
        #expect(await harness.engine.trunks.parkedCount == 2)
        #expect(await harness.engine.trunks.inFlight(rule: 0) == 1)
        #expect(harness.pbx.placedRequests.count == 2)
        // No StartRetry was written to the parked files: they were not attempted.
        #expect(harness.inOutgoing("a2.call") == call("trunk-a"))

        // a1 and b1 hang up after 5 s; the parked trunk-a files go in due order, one at a time.
        await harness.advance(by: .seconds(5), sleepers: 2)
        #expect(try await EngineSchedulingTests.nextStart(harness) == "a2.call")
        await harness.advance(by: .seconds(5), sleepers: 1)
        #expect(try await EngineSchedulingTests.nextStart(harness) == "a3.call")
        await harness.advance(by: .seconds(5), sleepers: 1)
        _ = try await harness.finished("a3.call")
        #expect(await harness.engine.trunks.parkedCount == 0)
        #expect(harness.pbx.placedRequests.map(\.channel).filter { $0.hasSuffix("trunk-a") }.count == 3)
        await harness.stop()
    }

    @Test("A trunk's rate spaces its own calls while another trunk's calls go at once")
    func trunkRate() async throws {
        let harness = try EngineHarness { $0.trunkLimits = [.init(pattern: "Sim/*/trunk-a", maxConcurrent: 0, maxPerSecond: 1)] }
        try await harness.start()
        for name in ["a1", "a2", "a3", "b1", "b2"] {
            try harness.submit(name + ".call", call(name.hasPrefix("a") ? "trunk-a" : "trunk-b", talkMilliseconds: 60_000), mtime: t0)
        }
        var started: [String] = []
        for _ in 0..<4 { started.append(try await EngineSchedulingTests.nextStart(harness)) }
        // The rate bucket lets two go at once (a late slot's grace), then one per second.
        #expect(started == ["a1.call", "a2.call", "b1.call", "b2.call"])
        #expect(harness.clock.now() == t0)
        await harness.advance(by: .seconds(1), sleepers: 5)
        #expect(try await EngineSchedulingTests.nextStart(harness) == "a3.call")
        #expect(harness.clock.now() == t0.adding(seconds: 1))
        await harness.stop()
    }

    @Test("Raising a limit while running lets waiting files go without touching the calls in flight")
    func applyLimits() async throws {
        let harness = try EngineHarness {
            $0.maxConcurrent = 1
            $0.trunkLimits = [.init(pattern: "Sim/*/trunk-a", maxConcurrent: 1, maxPerSecond: 0)]
        }
        try await harness.start()
        try harness.submit("a1.call", call("trunk-a"), mtime: t0)
        try harness.submit("a2.call", call("trunk-a"), mtime: t0)
        try harness.submit("b1.call", call("trunk-b"), mtime: t0)
        #expect(try await EngineSchedulingTests.nextStart(harness) == "a1.call")
        await waitForSleepers(harness.clock, 1)
        #expect(harness.pbx.placedRequests.count == 1, "the global limit of 1 holds")

        await harness.engine.applyLimits(EngineLimits(maxConcurrent: 0, maxCallsPerSecond: 0, trunks: [
            .init(pattern: "Sim/*/trunk-a", maxConcurrent: 2, maxPerSecond: 0),
        ]))
        var started: Set<String> = []
        for _ in 0..<2 { started.insert(try await EngineSchedulingTests.nextStart(harness)) }
        #expect(started == ["a2.call", "b1.call"])
        #expect(await harness.engine.limits.maxConcurrent == 0)
        #expect(await harness.engine.trunks.inFlight(rule: 0) == 2)
        #expect(harness.log.contains("limits now: no limit in flight, no limit per second globally; Sim/*/trunk-a: max 2 in flight"))

        // Lowering it below the calls in flight drops none of them: they all end normally.
        await harness.engine.applyLimits(EngineLimits(maxConcurrent: 1, maxCallsPerSecond: 0, trunks: []))
        await harness.advance(by: .seconds(5), sleepers: 3)
        var completed: Set<String> = []
        for _ in 0..<3 {
            let event = try await harness.next { if case .finished(_, .completed, _, _) = $0 { true } else { false } }
            if case .finished(let name, _, _, _) = event { completed.insert(name) }
        }
        #expect(completed == ["a1.call", "a2.call", "b1.call"])
        await harness.stop()
    }
}
