import CallFile
import EngineTestSupport
import Testing
@testable import Spooler

/// Contract §2.2 as table tests of the core: an attempt in flight when spoold stopped is never left looping
/// and never silently repeated; the pid in the records decides nothing.
@Suite("Engine: recovery at start-up")
struct EngineRecoveryTests {
    let t0 = EngineCoreKit.t0

    @Test("A StartRetry without end whose call is gone: AbortRetry (counted), then the retry rules; the pid changes nothing",
          arguments: [EngineCoreKit.pid, 777])
    func abortAndRetry(pidInRecord: Int) {
        var kit = EngineCoreKit()
        let base = callText(["Channel": "Sim/answer", "MaxRetries": "1", "RetryTime": "3", "Application": "Wait", "Archive": "yes"])
        // Left by a crash at t0-10: StartRetry shows t+R and the mtime is t+2R, still in the future.
        let text = base + "\nStartRetry: \(pidInRecord) 1 (\(t0.seconds - 7))\n"
        kit.put("crash.call", text, mtime: t0.adding(seconds: 2))
        kit.start()
        kit.tick()
        // Read by the start-up sweep at once (not at the t+2R mtime) and checked with the backend.
        let channelId = ChannelID.make(fileName: "crash.call", startEpoch: t0.seconds - 7, attempt: 1)
        #expect(kit.asked["crash.call"] == channelId)
        kit.feed(.channelChecked("crash.call", exists: false))
        kit.tick()
        #expect(kit.wake == t0.adding(seconds: 3))
        kit.advance(to: t0.adding(seconds: 3))
        kit.report("crash.call", .answered(channel: "x"), .hungUp)
        kit.completeMoves()
        #expect(kit.finished("crash.call")?.0 == .completed)
        #expect(kit.done["crash.call"] == text + """

            AbortRetry: 2381 1 (\(t0.seconds))

            StartRetry: 2381 2 (\(t0.seconds + 6))
            Status: Completed

            """)
        #expect(kit.placed.map { $0.variables.last!.value } == ["2"])
        #expect(kit.emitted.contains { if case .attemptEnded(let report) = $0 { report.result == .aborted } else { false } })
    }

    @Test("With MaxRetries 0 the aborted attempt was the last: Expired without dialling again")
    func abortExpires() {
        var kit = EngineCoreKit()
        let text = callText(["Channel": "Sim/answer", "MaxRetries": "0", "Application": "Wait", "Archive": "yes"])
            + "\nStartRetry: 5 1 (\(t0.seconds))\n"
        kit.put("once.call", text, mtime: t0)
        kit.start()
        kit.tick()
        kit.feed(.channelChecked("once.call", exists: false))
        kit.completeMoves()
        #expect(kit.finished("once.call")?.0 == .expired)
        #expect(kit.done["once.call"] == text + "\nAbortRetry: 2381 1 (\(t0.seconds))\nStatus: Expired\n")
        #expect(kit.placed.isEmpty)
    }

    @Test("A StartRetry without end whose call is still up: adopted, followed to its hangup, Completed, never re-dialled")
    func adopt() {
        var kit = EngineCoreKit(maxConcurrent: 1)
        let text = callText(["Channel": "Sim/answer/0/30000", "MaxRetries": "2", "RetryTime": "5", "Application": "Wait", "Archive": "yes"])
            + "\nStartRetry: 2381 1 (\(t0.seconds + 5))\n"
        kit.put("long.call", text, mtime: t0.adding(seconds: 10))
        kit.put("next.call", callText(["Channel": "Sim/answer", "Application": "Wait"]), mtime: t0)
        kit.start()
        kit.tick()
        let channelId = ChannelID.make(fileName: "long.call", startEpoch: t0.seconds + 5, attempt: 1)
        kit.feed(.channelChecked("long.call", exists: true))
        #expect(kit.emitted.contains(.adopted(file: "long.call", channelId: channelId)))
        #expect(kit.actions.contains(.follow("long.call", channelId: channelId, token: kit.tokens["long.call"] ?? 0)))
        // next.call was dialled before the answer came; the adopted call holds the one slot from now on.
        #expect(kit.core.inFlight == 2)
        kit.report("long.call", .answered(channel: "x"), .hungUp)
        kit.completeMoves()
        #expect(kit.finished("long.call")?.0 == .completed)
        #expect(kit.done["long.call"] == text + "Status: Completed\n")
        #expect(kit.placed.map(\.channel) == ["Sim/answer"], "the adopted call was dialled again")
    }

    @Test("An adopted call that ends unanswered is a failed attempt, never Completed (B1)")
    func adoptedUnanswered() {
        var kit = EngineCoreKit()
        let text = callText(["Channel": "Sim/x", "MaxRetries": "0", "Application": "Wait", "Archive": "yes"])
            + "\nStartRetry: 2381 1 (\(t0.seconds + 5))\n"
        kit.put("ring.call", text, mtime: t0.adding(seconds: 10))
        kit.start()
        kit.tick()
        kit.feed(.channelChecked("ring.call", exists: true))
        kit.report("ring.call", .hungUp)
        kit.completeMoves()
        #expect(kit.finished("ring.call")?.0 == .expired)
    }

    @Test("The backend cannot tell yet: asked again backendRetryDelay later, nothing written")
    func cannotTell() {
        var kit = EngineCoreKit()
        let text = callText(["Channel": "Sim/x", "Application": "Wait"]) + "\nStartRetry: 1 1 (\(t0.seconds))\n"
        kit.put("ask.call", text, mtime: t0)
        kit.start()
        kit.tick()
        kit.feed(.channelChecked("ask.call", exists: nil))
        kit.tick()
        #expect(kit.wake == t0.adding(seconds: 1))
        #expect(kit.outgoing["ask.call"]?.text == text)
        kit.asked = [:]
        kit.advance(by: .seconds(1))
        #expect(kit.asked["ask.call"] != nil)
    }

    @Test("The start-up sweep reads every future-dated file once, at most 256 per turn, and finds the one left in flight")
    func sweepReadsEachFutureFileOnce() {
        var kit = EngineCoreKit()
        let fresh = callText(["Channel": "Sim/answer", "Application": "Wait"])
        for index in 0..<600 { kit.put("later-\(index).call", fresh, mtime: t0.adding(seconds: 3600)) }
        let crashed = callText(["Channel": "Sim/answer", "MaxRetries": "1", "Application": "Wait"]) + "\nStartRetry: 5 1 (\(t0.seconds - 7))\n"
        kit.put("crash.call", crashed, mtime: t0.adding(seconds: 2))
        kit.start()
        var reads: [[String]] = []
        for _ in 0..<4 {
            reads.append(kit.tick().compactMap { if case .read(let name, forAppend: false) = $0 { name } else { nil } })
        }
        #expect(reads.map(\.count) == [256, 256, 89, 0])
        #expect(Set(reads.joined()).count == 601)
        #expect(kit.asked["crash.call"] == ChannelID.make(fileName: "crash.call", startEpoch: t0.seconds - 7, attempt: 1))
        #expect(kit.placed.isEmpty)
    }
}
