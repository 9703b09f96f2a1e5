import CallFile
import EngineTestSupport
import Testing
@testable import Spooler

/// Scheduling by mtime, retry spacing, touches and removals, and the global limits, as table tests of the
/// core: every assertion is made after the turn it is about has run, so "nothing was dialled" means it.
@Suite("Engine: scheduling and retry spacing")
struct EngineSchedulingTests {
    let t0 = EngineCoreKit.t0

    @Test("Retry spacing is measured from the end of the attempt, not its start (contract §2.1)")
    func spacingFromEnd() throws {
        var kit = EngineCoreKit()
        kit.start()
        kit.submit("spaced.call", callText(["Channel": "Sim/busy/2000", "MaxRetries": "1", "RetryTime": "5",
                                            "Application": "Wait", "Archive": "yes"]))
        kit.tick()
        #expect(kit.started("spaced.call") == [1])
        // In flight: StartRetry set the mtime to t+2R, as Asterisk does.
        #expect(kit.outgoing["spaced.call"]?.mtime == t0.adding(seconds: 10))
        kit.now = t0.adding(seconds: 2)
        kit.report("spaced.call", .placed, .failed(reason: 5, text: "Remote end is Busy"))
        #expect(kit.emitted.contains(.retryScheduled(file: "spaced.call", attempt: 1, reason: 5, nextDue: t0.adding(seconds: 7))))
        #expect(kit.wake == t0.adding(seconds: 7))
        // Asterisk's inotify build would start attempt 2 at t+R = t0+5; spoold must not.
        kit.advance(to: t0.adding(seconds: 5))
        kit.advance(to: t0.adding(.milliseconds(6_999)))
        #expect(kit.started("spaced.call") == [1], "attempt 2 started before end + R")
        kit.advance(to: t0.adding(seconds: 7))
        #expect(kit.started("spaced.call") == [1, 2])
        kit.now = t0.adding(seconds: 9)
        kit.report("spaced.call", .failed(reason: 5, text: "Remote end is Busy"))
        kit.completeMoves()
        #expect(kit.finished("spaced.call")?.0 == .expired)
        let records = CallFileParser.parse(Array(try #require(kit.done["spaced.call"]).utf8), path: "x").file.records
        #expect(records.map(\.kind) == [.start, .end, .start])
        #expect(records.map(\.epoch) == [t0.seconds + 5, t0.seconds + 2, t0.seconds + 7 + 5])
    }

    @Test("A future mtime waits until then, to the nanosecond")
    func futureMtime() {
        var kit = EngineCoreKit()
        kit.start()
        let due = t0.adding(.milliseconds(8_250))
        kit.submit("later.call", callText(["Channel": "Sim/answer", "Application": "Wait"]), mtime: due)
        kit.tick()
        #expect(kit.wake == due)
        kit.advance(to: t0.adding(.milliseconds(8_249)))
        #expect(kit.placed.isEmpty)
        kit.advance(to: due)
        #expect(kit.placed.count == 1)
    }

    @Test("A waiting file touched to a later time is not read at its old time; touched earlier, it runs then")
    func touched() {
        var kit = EngineCoreKit()
        kit.start()
        kit.submit("moved.call", callText(["Channel": "Sim/answer", "Application": "Wait"]), mtime: t0.adding(seconds: 10))
        kit.submit("earlier.call", callText(["Channel": "Sim/answer", "Application": "Wait"]), mtime: t0.adding(seconds: 30))
        kit.tick()
        // Touched without an event reaching spoold (inotify never saw it): the due-time re-check moves it.
        kit.outgoing["moved.call"]!.mtime = t0.adding(seconds: 20)
        kit.outgoing["earlier.call"]!.mtime = t0.adding(seconds: 5)
        kit.feed(.change(.changed("earlier.call")))
        kit.advance(to: t0.adding(seconds: 5))
        #expect(kit.dialled == ["earlier.call"])
        kit.advance(to: t0.adding(seconds: 10))
        kit.advance(to: t0.adding(.milliseconds(19_999)))
        #expect(kit.dialled == ["earlier.call"], "moved.call ran at its old time")
        kit.advance(to: t0.adding(seconds: 20))
        #expect(kit.dialled == ["earlier.call", "moved.call"])
    }

    @Test("A deleted waiting file is forgotten; a new file of that name runs only at its own time")
    func deletedForgotten() {
        var kit = EngineCoreKit()
        kit.start()
        kit.submit("reused.call", callText(["Channel": "Sim/busy", "Application": "Wait"]), mtime: t0.adding(seconds: 5))
        kit.tick()
        kit.outgoing["reused.call"] = nil
        #expect(kit.feed(.change(.removed("reused.call"))) == [.emit(.forgotten(file: "reused.call"))])
        kit.submit("reused.call", callText(["Channel": "Sim/answer", "Application": "Wait"]), mtime: t0.adding(seconds: 15))
        kit.advance(to: t0.adding(seconds: 5))
        kit.advance(to: t0.adding(seconds: 14))
        #expect(kit.placed.isEmpty)
        kit.advance(to: t0.adding(seconds: 15))
        #expect(kit.placed.map(\.channel) == ["Sim/answer"])
    }

    @Test("Files present at start-up are scheduled by mtime; names starting with '.' are never touched")
    func startupListing() {
        var kit = EngineCoreKit()
        kit.put("present.call", callText(["Channel": "Sim/answer", "Application": "Wait"]), mtime: t0.adding(seconds: -1))
        kit.put(".staged.call", callText(["Channel": "Sim/answer", "Application": "Wait"]))
        kit.put(".x.call.spoold-rewrite", "left by a crash")
        let ready = kit.start()
        #expect(ready.contains(.emit(.ready(scheduled: 1))))
        #expect(ready.contains(.removeLeftover(".x.call.spoold-rewrite")))
        #expect(ready.contains(.logReady("spoold ready: 1 call files scheduled in /spool/outgoing (pid 2381, max unlimited calls in flight, max unlimited calls per second)")))
        kit.tick()
        #expect(kit.dialled == ["present.call"])
        #expect(!kit.actions.contains { "\($0)".contains(".staged.call") })
    }

    @Test("--max-concurrent is never exceeded and due files wait in due order")
    func concurrencyLimit() {
        var kit = EngineCoreKit(maxConcurrent: 2)
        kit.start()
        for i in 0..<5 {
            kit.submit("c\(i).call", callText(["Channel": "Sim/answer/0/1000", "Application": "Wait"]), mtime: t0.adding(.milliseconds(i)))
        }
        kit.advance(by: .milliseconds(10))
        #expect(kit.dialled == ["c0.call", "c1.call"])
        #expect(kit.core.limiter.inFlight == 2)
        #expect(kit.wake == nil, "waits for a call to end, not for a time")
        kit.report("c0.call", .answered(channel: "x"), .hungUp)
        #expect(kit.dialled == ["c0.call", "c1.call", "c2.call"])
        #expect(kit.core.limiter.inFlight == 2)
        kit.report("c1.call", .answered(channel: "x"), .hungUp)
        kit.report("c2.call", .answered(channel: "x"), .hungUp)
        #expect(kit.dialled == (0..<5).map { "c\($0).call" })
        #expect(kit.core.limiter.inFlight == 2)
    }

    @Test("--max-cps spaces new Originates 1/R apart on the clock")
    func rateLimit() {
        var kit = EngineCoreKit(maxCallsPerSecond: 4)
        kit.start()
        for i in 0..<6 { kit.submit("r\(i).call", callText(["Channel": "Sim/answer", "Application": "Wait"]), mtime: t0) }
        kit.tick()
        // The bucket lets a late slot's grace go at once, then one per 1/R.
        #expect(kit.dialled.count == 2)
        for n in 1...4 {
            #expect(kit.wake == t0.adding(.milliseconds(250 * n)))
            kit.advance(to: t0.adding(.milliseconds(250 * n - 1)))
            #expect(kit.dialled.count == 1 + n)
            kit.advance(to: t0.adding(.milliseconds(250 * n)))
            #expect(kit.dialled.count == 2 + n)
        }
    }

    @Test("At most 256 due files are started per turn; the rest come in the next turn, at once")
    func filesPerTurn() {
        var kit = EngineCoreKit()
        kit.start()
        for i in 0..<300 { kit.submit("b\(i).call", callText(["Channel": "Sim/answer", "Application": "Wait"]), mtime: t0) }
        kit.tick()
        #expect(kit.dialled.count == 256)
        #expect(kit.wake == t0)
        kit.tick()
        #expect(kit.dialled.count == 300)
    }

    @Test("Backend not ready: due files wait, one warning, nothing written; a look every backendRetryDelay")
    func backendNotReady() {
        var kit = EngineCoreKit()
        kit.start()
        kit.submit("wait.call", callText(["Channel": "Sim/answer", "Application": "Wait"]))
        kit.tick(ready: false)
        kit.tick(ready: false)
        #expect(kit.placed.isEmpty)
        #expect(kit.logLines.filter { $0.contains("[wait.call] due, but the backend cannot take calls") }.count == 1)
        #expect(kit.wake == t0.adding(seconds: 1))
        #expect(kit.outgoing["wait.call"]?.text == callText(["Channel": "Sim/answer", "Application": "Wait"]))
        kit.tick()
        #expect(kit.logged("the backend is ready again"))
        #expect(kit.placed.count == 1)
    }
}
