#if canImport(Glibc)
import Glibc
#endif
import CallFile
import Testing
@testable import Spooler

/// Contract §2.2: an attempt in flight when spoold stopped is never left looping and never silently
/// repeated; the pid in the records decides nothing.
@Suite("Engine: recovery at start-up")
struct EngineRecoveryTests {
    let t0 = EngineHarness.t0

    @Test("A StartRetry without end whose call is gone: AbortRetry (counted), then the retry rules; the pid changes nothing",
          arguments: [EngineHarness.pid, 777])
    func abortAndRetry(pidInRecord: Int) async throws {
        let harness = try EngineHarness()
        let base = callText(["Channel": "Sim/answer", "MaxRetries": "1", "RetryTime": "3", "Application": "Wait", "Archive": "yes"])
        // Left by a crash at t0-10: StartRetry shows t+R and the mtime is t+2R, still in the future.
        let text = base + "\nStartRetry: \(pidInRecord) 1 (\(t0.seconds - 7))\n"
        try harness.submit("crash.call", text, mtime: t0.adding(seconds: -4), announce: false)
        try EngineHarness.setMtime(harness.outgoing + "/crash.call", t0.adding(seconds: 2))
        try await harness.start()
        // Recovered at once (not at the t+2R mtime): counted as aborted, next attempt RetryTime later.
        let retryAt = t0.adding(seconds: 3)
        await harness.advance(to: retryAt)
        #expect(try await harness.finished("crash.call").0 == .completed)
        #expect(harness.archived("crash.call") == text + """

            AbortRetry: 2381 1 (\(t0.seconds))

            StartRetry: 2381 2 (\(t0.seconds + 6))
            Status: Completed

            """)
        #expect(harness.pbx.placedRequests.map { $0.variables.last!.value } == ["2"])
        await harness.stop()
    }

    @Test("With MaxRetries 0 the aborted attempt was the last: Expired without dialling again")
    func abortExpires() async throws {
        let harness = try EngineHarness()
        let text = callText(["Channel": "Sim/answer", "MaxRetries": "0", "Application": "Wait", "Archive": "yes"])
            + "\nStartRetry: 5 1 (\(t0.seconds))\n"
        try harness.submit("once.call", text, mtime: t0, announce: false)
        try await harness.start()
        #expect(try await harness.finished("once.call").0 == .expired)
        #expect(harness.archived("once.call") == text + "\nAbortRetry: 2381 1 (\(t0.seconds))\nStatus: Expired\n")
        #expect(harness.pbx.placedRequests.isEmpty)
        await harness.stop()
    }

    @Test("A StartRetry without end whose call is still up: adopted, followed to its hangup, Completed, never re-dialled")
    func adopt() async throws {
        // The first engine places a long call and stops (grace 0) while it is up; the PBX keeps it.
        let first = try EngineHarness()
        try await first.start()
        let text = callText(["Channel": "Sim/answer/0/30000", "MaxRetries": "2", "RetryTime": "5", "Application": "Wait", "Archive": "yes"])
        try first.submit("long.call", text)
        _ = try await first.attemptStarted("long.call")
        await first.stop()
        #expect(first.inOutgoing("long.call") == text + "\nStartRetry: 2381 1 (\(t0.seconds + 5))\n")

        let second = try EngineHarness(root: first.root, pbx: first.pbx, clock: first.clock)
        try await second.start()
        _ = try await second.next { $0 == .adopted(file: "long.call", channelId: ChannelID.make(fileName: "long.call", startEpoch: t0.seconds + 5, attempt: 1)) }
        await second.advance(by: .seconds(30))
        #expect(try await second.finished("long.call").0 == .completed)
        #expect(second.archived("long.call") == text + "\nStartRetry: 2381 1 (\(t0.seconds + 5))\nStatus: Completed\n")
        #expect(first.pbx.placedRequests.count == 1, "the adopted call was dialled again")
        await second.stop()
    }
}
