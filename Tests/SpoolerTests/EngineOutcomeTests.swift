import CallFile
import Testing
@testable import Spooler

/// Every outcome, and the archived bytes compared with the layout of Asterisk 22's archives
/// (asterisk-22-transcripts/callfile_ref-*.txt).
@Suite("Engine: outcomes and archived bytes")
struct EngineOutcomeTests {
    let t0 = EngineHarness.t0.seconds

    @Test("Answered: StartRetry (t+R), Status: Completed, like callfile_ref-answer")
    func answered() async throws {
        let harness = try EngineHarness()
        try await harness.start()
        let text = callText(["Channel": "Local/s@answer", "WaitTime": "10", "MaxRetries": "0", "RetryTime": "5",
                             "Context": "target", "Extension": "s", "Priority": "1", "Setvar": "MYVAR=callfile-answer",
                             "Archive": "yes"])
        try harness.submit("ref-answer.call", text)
        let (status, disposition) = try await harness.finished("ref-answer.call")
        #expect(status == .completed)
        #expect(disposition == .archived("ref-answer.call"))
        #expect(harness.archived("ref-answer.call") == text + "\nStartRetry: 2381 1 (\(t0 + 5))\nStatus: Completed\n")
        let request = try #require(harness.pbx.placedRequests.first)
        #expect(request.variables.map(\.name) == ["MYVAR", "AST_OUTGOING_ATTEMPT"])
        #expect(request.channelId == ChannelID.make(fileName: "ref-answer.call", startEpoch: t0 + 5, attempt: 1))
        #expect(harness.log.contains("[ref-answer.call]", "attempt 1 of 1 on Local/s@answer", "answered"))
        #expect(harness.log.contains("[ref-answer.call]", "finished: Completed", "archived to outgoing_done/ref-answer.call"))
        await harness.stop()
    }

    @Test("Busy twice with MaxRetries 1, RetryTime 2: the bytes of callfile_ref-busy")
    func busyExpires() async throws {
        let harness = try EngineHarness()
        try await harness.start()
        let text = callText(["Channel": "Sim/busy", "WaitTime": "10", "MaxRetries": "1", "RetryTime": "2",
                             "Context": "target", "Extension": "s", "Priority": "1", "Archive": "yes"])
        try harness.submit("ref-busy.call", text)
        #expect(try await harness.attemptStarted("ref-busy.call") == 1)
        let retry = try await harness.next { if case .retryScheduled = $0 { true } else { false } }
        #expect(retry == .retryScheduled(file: "ref-busy.call", attempt: 1, reason: 5, nextDue: EngineHarness.t0.adding(seconds: 2)))
        // The mtime EndRetry set (end + R) is the due time.
        #expect(harness.mtime(harness.outgoing + "/ref-busy.call") == EngineHarness.t0.adding(seconds: 2))
        await harness.advance(by: .seconds(2))
        let (status, _) = try await harness.finished("ref-busy.call")
        #expect(status == .expired)
        #expect(harness.archived("ref-busy.call") == text + """

            StartRetry: 2381 1 (\(t0 + 2))

            EndRetry: 2381 1 (\(t0))

            StartRetry: 2381 2 (\(t0 + 4))
            Status: Expired

            """)
        #expect(harness.pbx.placedRequests.map { $0.variables.last!.value } == ["1", "2"])
        #expect(harness.log.contains("[ref-busy.call] attempt 1 of 2 on Sim/busy: failed, reason 5 (Remote end is Busy); next attempt at"))
        #expect(harness.log.contains("[ref-busy.call] finished: Expired after 2 attempts; archived to outgoing_done/ref-busy.call"))
        await harness.stop()
    }

    @Test("Congestion and failure with MaxRetries 0 expire after one attempt, no EndRetry", arguments: [
        ("Sim/congestion", 8), ("Sim/failure", 0),
    ])
    func oneFailedAttempt(channel: String, reason: Int) async throws {
        let harness = try EngineHarness()
        try await harness.start()
        let text = callText(["Channel": channel, "MaxRetries": "0", "RetryTime": "2", "Application": "Playback",
                             "Data": "x", "Archive": "yes"])
        try harness.submit("one.call", text)
        #expect(try await harness.finished("one.call").0 == .expired)
        #expect(harness.archived("one.call") == text + "\nStartRetry: 2381 1 (\(t0 + 2))\nStatus: Expired\n")
        #expect(harness.log.contains("reason \(reason) (\(ReasonText.text(for: reason)))"))
        await harness.stop()
    }

    @Test("No answer rings for WaitTime, then fails with reason 3")
    func noAnswer() async throws {
        let harness = try EngineHarness()
        try await harness.start()
        try harness.submit("ring.call", callText(["Channel": "Sim/noanswer", "WaitTime": "3", "Application": "Wait", "Archive": "yes"]))
        _ = try await harness.attemptStarted("ring.call")
        // The engine sleeps until the file's StartRetry mtime; the call sleeps until WaitTime.
        await harness.advance(by: .seconds(3), sleepers: 1)
        #expect(try await harness.finished("ring.call").0 == .expired)
        #expect(harness.log.contains("[ring.call]", "reason 3 (Remote end Ringing)"))
        await harness.stop()
    }

    @Test("Archive: no deletes the finished file, whatever the outcome", arguments: ["Sim/answer", "Sim/busy"])
    func deleted(channel: String) async throws {
        let harness = try EngineHarness()
        try await harness.start()
        try harness.submit("gone.call", callText(["Channel": channel, "Application": "Wait"]))
        #expect(try await harness.finished("gone.call").1 == .deleted)
        #expect(harness.inOutgoing("gone.call") == nil)
        #expect(harness.names(in: harness.done).isEmpty)
        await harness.stop()
    }

    @Test("finish-at-answer ends the attempt at answer; otherwise the whole call is waited for")
    func finishAtAnswer() async throws {
        let harness = try EngineHarness { $0.finishAtAnswer = true }
        try await harness.start()
        try harness.submit("quick.call", callText(["Channel": "Sim/answer/0/60000", "Application": "Wait", "Archive": "yes"]))
        #expect(try await harness.finished("quick.call").0 == .completed)
        await harness.stop()
    }

    @Test("Negative MaxRetries expires on first read without a dial; records already used up expire too")
    func expiredOnRead() async throws {
        let harness = try EngineHarness()
        try await harness.start()
        let negative = callText(["Channel": "Sim/answer", "MaxRetries": "-1", "Application": "Wait", "Archive": "yes"])
        try harness.submit("neg.call", negative)
        #expect(try await harness.finished("neg.call").0 == .expired)
        #expect(harness.archived("neg.call") == negative + "Status: Expired\n")
        let used = callText(["Channel": "Sim/answer", "MaxRetries": "1", "Application": "Wait", "Archive": "yes"])
            + "\nStartRetry: 1 1 (5)\n\nEndRetry: 1 1 (3)\n\nStartRetry: 1 2 (7)\n\nAbortRetry: 2 2 (9)\n"
        try harness.submit("used.call", used)
        #expect(try await harness.finished("used.call").0 == .expired)
        #expect(harness.archived("used.call") == used + "Status: Expired\n")
        #expect(harness.pbx.placedRequests.isEmpty)
        await harness.stop()
    }

    @Test("A file Asterisk started is finished with the same records, numbered on")
    func asteriskFile() async throws {
        let harness = try EngineHarness()
        try await harness.start()
        let text = callText(["Channel": "Sim/answer", "MaxRetries": "2", "RetryTime": "1", "Application": "Wait", "Archive": "yes"])
            + "\nStartRetry: 19344 1 (1795364730)\n\nEndRetry: 19344 1 (1795364725)\n"
        try harness.submit("half.call", text)
        #expect(try await harness.finished("half.call").0 == .completed)
        #expect(harness.archived("half.call") == text + "\nStartRetry: 2381 2 (\(t0 + 1))\nStatus: Completed\n")
        #expect(harness.pbx.placedRequests.first?.variables.last?.value == "2")
        await harness.stop()
    }
}
