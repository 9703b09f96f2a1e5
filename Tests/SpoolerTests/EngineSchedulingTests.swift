#if canImport(Glibc)
import Glibc
#endif
import CallFile
import Testing
@testable import Spooler

@Suite("Engine: scheduling and retry spacing")
struct EngineSchedulingTests {
    let t0 = EngineHarness.t0

    @Test("Retry spacing is measured from the end of the attempt, not its start (contract §2.1)")
    func spacingFromEnd() async throws {
        let harness = try EngineHarness()
        try await harness.start()
        // Rings 2 s then busy; RetryTime 5.
        try harness.submit("spaced.call", callText(["Channel": "Sim/busy/2000", "MaxRetries": "1", "RetryTime": "5",
                                                    "Application": "Wait", "Archive": "yes"]))
        _ = try await harness.attemptStarted("spaced.call")
        // In flight: StartRetry set the mtime to t+2R, as Asterisk does.
        #expect(harness.mtime(harness.outgoing + "/spaced.call") == t0.adding(seconds: 10))
        await harness.advance(by: .seconds(2))
        let retry = try await harness.next { if case .retryScheduled = $0 { true } else { false } }
        #expect(retry == .retryScheduled(file: "spaced.call", attempt: 1, reason: 5, nextDue: t0.adding(seconds: 7)))
        // Asterisk's inotify build would start attempt 2 at t+R = t0+5; spoold must not.
        await harness.advance(to: t0.adding(seconds: 5))
        await harness.advance(to: t0.adding(.milliseconds(6_999)))
        await harness.advance(to: t0.adding(seconds: 7))
        #expect(try await harness.attemptStarted("spaced.call") == 2)
        await harness.advance(by: .seconds(2))
        #expect(try await harness.finished("spaced.call").0 == .expired)
        let text = try #require(harness.archived("spaced.call"))
        let records = CallFileParser.parse(Array(text.utf8), path: "x").file.records
        #expect(records.map(\.kind) == [.start, .end, .start])
        #expect(records.map(\.epoch) == [t0.seconds + 5, t0.seconds + 2, t0.seconds + 7 + 5], "attempt 2 started before end + R")
        await harness.stop()
    }

    @Test("A future mtime waits until then, to the nanosecond")
    func futureMtime() async throws {
        let harness = try EngineHarness()
        try await harness.start()
        let due = t0.adding(.milliseconds(8_250))
        try harness.submit("later.call", callText(["Channel": "Sim/answer", "Application": "Wait"]), mtime: due)
        await harness.advance(to: t0.adding(.milliseconds(8_249)))
        #expect(harness.pbx.placedRequests.isEmpty)
        await harness.advance(to: due)
        _ = try await harness.finished("later.call")
        #expect(harness.pbx.placedRequests.count == 1)
        await harness.stop()
    }

    @Test("A waiting file touched to a later time is not read at its old time; touched earlier, it runs then")
    func touched() async throws {
        let harness = try EngineHarness()
        try await harness.start()
        try harness.submit("moved.call", callText(["Channel": "Sim/answer", "Application": "Wait"]), mtime: t0.adding(seconds: 10))
        try harness.submit("earlier.call", callText(["Channel": "Sim/answer", "Application": "Wait"]), mtime: t0.adding(seconds: 30))
        await waitForSleepers(harness.clock, 1)
        // Touched without an event reaching spoold (inotify never saw it): the due-time re-check moves it.
        try EngineHarness.setMtime(harness.outgoing + "/moved.call", t0.adding(seconds: 20))
        try EngineHarness.setMtime(harness.outgoing + "/earlier.call", t0.adding(seconds: 5))
        harness.changed(.changed("earlier.call"))
        await harness.advance(to: t0.adding(seconds: 5))
        _ = try await harness.finished("earlier.call")
        await harness.advance(to: t0.adding(seconds: 10))
        await harness.advance(to: t0.adding(.milliseconds(19_999)))
        #expect(harness.pbx.placedRequests.map(\.channelId).count == 1, "moved.call ran at its old time")
        await harness.advance(to: t0.adding(seconds: 20))
        _ = try await harness.finished("moved.call")
        await harness.stop()
    }

    @Test("A deleted waiting file is forgotten; a new file of that name runs only at its own time")
    func deletedForgotten() async throws {
        let harness = try EngineHarness()
        try await harness.start()
        try harness.submit("reused.call", callText(["Channel": "Sim/busy", "Application": "Wait"]), mtime: t0.adding(seconds: 5))
        await waitForSleepers(harness.clock, 1)
        unlink(harness.outgoing + "/reused.call")
        harness.changed(.removed("reused.call"))
        _ = try await harness.next { $0 == .forgotten(file: "reused.call") }
        try harness.submit("reused.call", callText(["Channel": "Sim/answer", "Application": "Wait"]), mtime: t0.adding(seconds: 15))
        await harness.advance(to: t0.adding(seconds: 5))
        await harness.advance(to: t0.adding(seconds: 14))
        #expect(harness.pbx.placedRequests.isEmpty)
        await harness.advance(to: t0.adding(seconds: 15))
        #expect(try await harness.finished("reused.call").0 == .completed)
        #expect(harness.pbx.placedRequests.map(\.channel) == ["Sim/answer"])
        await harness.stop()
    }

    @Test("Files present at start-up are scheduled by mtime; names starting with '.' are never touched")
    func startupListing() async throws {
        let harness = try EngineHarness()
        try harness.submit("present.call", callText(["Channel": "Sim/answer", "Application": "Wait", "Archive": "yes"]), announce: false)
        try harness.submit(".staged.call", callText(["Channel": "Sim/answer", "Application": "Wait"]), announce: false)
        try await harness.start()
        _ = try await harness.finished("present.call")
        #expect(harness.inOutgoing(".staged.call") != nil)
        #expect(harness.names(in: harness.done) == ["present.call"])
        await harness.stop()
    }

    @Test("--max-concurrent is never exceeded and due files wait in due order")
    func concurrencyLimit() async throws {
        let harness = try EngineHarness { $0.maxConcurrent = 2 }
        try await harness.start()
        for i in 0..<5 {
            try harness.submit("c\(i).call", callText(["Channel": "Sim/answer/0/1000", "Application": "Wait"]),
                               mtime: t0.adding(.milliseconds(i)))
        }
        await harness.advance(by: .milliseconds(10), sleepers: 0)
        var order: [String] = []
        for _ in 0..<2 { order.append(try await Self.nextStart(harness)) }
        #expect(await harness.engine.limiter.inFlight == 2)
        await harness.advance(by: .seconds(1), sleepers: 2)
        for _ in 0..<2 { order.append(try await Self.nextStart(harness)) }
        #expect(await harness.engine.limiter.inFlight <= 2)
        await harness.advance(by: .seconds(1), sleepers: 2)
        order.append(try await Self.nextStart(harness))
        #expect(order == (0..<5).map { "c\($0).call" })
        await harness.stop()
    }

    static func nextStart(_ harness: EngineHarness) async throws -> String {
        let event = try await harness.next { if case .attemptStarted = $0 { true } else { false } }
        guard case .attemptStarted(let name, _, _) = event else { return "" }
        return name
    }

    @Test("--max-cps spaces new Originates 1/R apart on the clock")
    func rateLimit() async throws {
        let harness = try EngineHarness { $0.maxCallsPerSecond = 4 }
        try await harness.start()
        for i in 0..<6 {
            try harness.submit("r\(i).call", callText(["Channel": "Sim/answer", "Application": "Wait"]), mtime: t0)
        }
        var started: [SpoolInstant] = []
        for _ in 0..<2 {
            _ = try await Self.nextStart(harness)
            started.append(harness.clock.now())
        }
        for _ in 0..<4 {
            await harness.advance(by: .milliseconds(250))
            _ = try await Self.nextStart(harness)
            started.append(harness.clock.now())
        }
        #expect(started == [t0, t0] + (1...4).map { t0.adding(.milliseconds(250 * $0)) })
        await harness.stop()
    }
}
