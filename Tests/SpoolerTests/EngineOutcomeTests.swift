import CallFile
import EngineTestSupport
import Testing
@testable import Spooler

/// Every outcome, and the archived bytes compared with the layout of Asterisk 22's archives
/// (asterisk-22-transcripts/callfile_ref-*.txt), as table tests of the core.
@Suite("Engine: outcomes and archived bytes")
struct EngineOutcomeTests {
    let t0 = EngineCoreKit.t0.seconds

    /// Submits `text` as `name` at t0, runs it to its first dial, and returns the kit.
    static func dialled(_ name: String, _ text: String, configure: (inout SpoolStateMachine.Settings) -> Void = { _ in }) -> EngineCoreKit {
        var kit = EngineCoreKit(configure: configure)
        kit.start()
        kit.submit(name, text)
        kit.tick()
        return kit
    }

    @Test("Answered: StartRetry (t+R), Status: Completed, like callfile_ref-answer")
    func answered() throws {
        let text = callText(["Channel": "Local/s@answer", "WaitTime": "10", "MaxRetries": "0", "RetryTime": "5",
                             "Context": "target", "Extension": "s", "Priority": "1", "Setvar": "MYVAR=callfile-answer",
                             "Archive": "yes"])
        var kit = Self.dialled("ref-answer.call", text)
        let request = try #require(kit.placed.first)
        #expect(request.variables.map(\.name) == ["MYVAR", "AST_OUTGOING_ATTEMPT"])
        #expect(request.channelId == ChannelID.make(fileName: "ref-answer.call", startEpoch: t0 + 5, attempt: 1))
        // The debug line's facts are carried unworded (built only when debug is logged); its wording:
        #expect(kit.actions.contains { action in
            guard case .debug(let line) = action else { return false }
            return EngineWording.debug(line) == "[ref-answer.call] attempt 1 of 1 on Local/s@answer: dialling (ChannelId \(request.channelId))"
        })
        kit.report("ref-answer.call", .placed, .answered(channel: "Local/s@answer"), .hungUp)
        // Step 1 (the Status line) is done where the attempt ended; the move waits for the mover.
        #expect(kit.outgoing["ref-answer.call"]?.text == text + "\nStartRetry: 2381 1 (\(t0 + 5))\nStatus: Completed\n")
        #expect(kit.finished("ref-answer.call") == nil)
        kit.completeMoves()
        #expect(kit.finished("ref-answer.call").map { $0 == (.completed, .archived("ref-answer.call")) } == true)
        #expect(kit.done["ref-answer.call"] == text + "\nStartRetry: 2381 1 (\(t0 + 5))\nStatus: Completed\n")
        #expect(kit.logged("[ref-answer.call] attempt 1 of 1 on Local/s@answer: answered and hung up"))
        #expect(kit.logged("[ref-answer.call] finished: Completed on attempt 1 of 1; archived to outgoing_done/ref-answer.call"))
        #expect(kit.emitted.contains { if case .attemptEnded(let report) = $0 { report.result == .answered && report.attempt == 1 } else { false } })
    }

    @Test("Busy twice with MaxRetries 1, RetryTime 2: the bytes of callfile_ref-busy")
    func busyExpires() {
        let text = callText(["Channel": "Sim/busy", "WaitTime": "10", "MaxRetries": "1", "RetryTime": "2",
                             "Context": "target", "Extension": "s", "Priority": "1", "Archive": "yes"])
        var kit = Self.dialled("ref-busy.call", text)
        kit.report("ref-busy.call", .failed(reason: 5, text: ReasonText.text(for: 5)))
        #expect(kit.emitted.contains(.retryScheduled(file: "ref-busy.call", attempt: 1, reason: 5, nextDue: EngineCoreKit.t0.adding(seconds: 2))))
        // The mtime EndRetry set (end + R) is the due time.
        #expect(kit.outgoing["ref-busy.call"]?.mtime == EngineCoreKit.t0.adding(seconds: 2))
        kit.advance(by: .seconds(2))
        kit.report("ref-busy.call", .failed(reason: 5, text: ReasonText.text(for: 5)))
        kit.completeMoves()
        #expect(kit.finished("ref-busy.call")?.0 == .expired)
        #expect(kit.done["ref-busy.call"] == text + """

            StartRetry: 2381 1 (\(t0 + 2))

            EndRetry: 2381 1 (\(t0))

            StartRetry: 2381 2 (\(t0 + 4))
            Status: Expired

            """)
        #expect(kit.placed.map { $0.variables.last!.value } == ["1", "2"])
        #expect(kit.logged("[ref-busy.call] attempt 1 of 2 on Sim/busy: failed, reason 5 (Remote end is Busy); next attempt at"))
        #expect(kit.logged("[ref-busy.call] finished: Expired after 2 attempts; archived to outgoing_done/ref-busy.call"))
    }

    @Test("Congestion and failure with MaxRetries 0 expire after one attempt, no EndRetry", arguments: [8, 0])
    func oneFailedAttempt(reason: Int) {
        let text = callText(["Channel": "Sim/x", "MaxRetries": "0", "RetryTime": "2", "Application": "Playback", "Data": "x", "Archive": "yes"])
        var kit = Self.dialled("one.call", text)
        kit.report("one.call", .failed(reason: reason, text: ReasonText.text(for: reason)))
        kit.completeMoves()
        #expect(kit.finished("one.call")?.0 == .expired)
        #expect(kit.done["one.call"] == text + "\nStartRetry: 2381 1 (\(t0 + 2))\nStatus: Expired\n")
        #expect(kit.logged("reason \(reason) (\(ReasonText.text(for: reason))); no attempts left"))
    }

    @Test("Archive: no deletes the finished file, whatever the outcome", arguments: [true, false])
    func deleted(answers: Bool) {
        var kit = Self.dialled("gone.call", callText(["Channel": "Sim/x", "Application": "Wait"]))
        if answers {
            kit.report("gone.call", .answered(channel: "x"), .hungUp)
        } else {
            kit.report("gone.call", .failed(reason: 5, text: "busy"))
        }
        #expect(kit.finished("gone.call")?.1 == .deleted)
        #expect(kit.outgoing["gone.call"] == nil)
        #expect(kit.done.isEmpty)
        #expect(kit.logged("[gone.call] finished: ", "; deleted"))
    }

    @Test("finish-at-answer ends the attempt at answer; otherwise the whole call is waited for", arguments: [true, false])
    func finishAtAnswer(atAnswer: Bool) {
        var kit = Self.dialled("quick.call", callText(["Channel": "Sim/x", "Application": "Wait", "Archive": "yes"])) {
            $0.finishAtAnswer = atAnswer
        }
        kit.report("quick.call", .placed, .answered(channel: "x"), end: false)
        kit.completeMoves()
        #expect((kit.finished("quick.call")?.0 == .completed) == atAnswer)
        #expect(kit.core.inFlight == (atAnswer ? 0 : 1))
    }

    @Test("A call that ends without a result, or hangs up before answer, is a failed attempt")
    func noResult() {
        var kit = Self.dialled("silent.call", callText(["Channel": "Sim/x", "MaxRetries": "1", "Application": "Wait"]))
        kit.report("silent.call", .placed, nil)
        #expect(kit.logged("[silent.call] attempt 1 of 2 on Sim/x: failed, reason 0 (the backend gave no result); next attempt at"))
        kit.advance(by: .seconds(300))
        kit.report("silent.call", .placed, .hungUp)
        #expect(kit.logged("[silent.call] attempt 2 of 2 on Sim/x: failed, reason 0 (hung up before answer); no attempts left"))
    }

    @Test("Negative MaxRetries expires on first read without a dial; records already used up expire too")
    func expiredOnRead() {
        var kit = EngineCoreKit()
        kit.start()
        let negative = callText(["Channel": "Sim/answer", "MaxRetries": "-1", "Application": "Wait", "Archive": "yes"])
        kit.submit("neg.call", negative)
        let used = callText(["Channel": "Sim/answer", "MaxRetries": "1", "Application": "Wait", "Archive": "yes"])
            + "\nStartRetry: 1 1 (5)\n\nEndRetry: 1 1 (3)\n\nStartRetry: 1 2 (7)\n\nAbortRetry: 2 2 (9)\n"
        kit.submit("used.call", used)
        kit.tick()
        kit.completeMoves()
        #expect(kit.finished("neg.call")?.0 == .expired)
        #expect(kit.done["neg.call"] == negative + "Status: Expired\n")
        #expect(kit.finished("used.call")?.0 == .expired)
        #expect(kit.done["used.call"] == used + "Status: Expired\n")
        #expect(kit.placed.isEmpty)
    }

    @Test("A file Asterisk started is finished with the same records, numbered on")
    func asteriskFile() {
        let text = callText(["Channel": "Sim/answer", "MaxRetries": "2", "RetryTime": "1", "Application": "Wait", "Archive": "yes"])
            + "\nStartRetry: 19344 1 (1795364730)\n\nEndRetry: 19344 1 (1795364725)\n"
        var kit = Self.dialled("half.call", text)
        kit.report("half.call", .answered(channel: "x"), .hungUp)
        kit.completeMoves()
        #expect(kit.done["half.call"] == text + "\nStartRetry: 2381 2 (\(t0 + 1))\nStatus: Completed\n")
        #expect(kit.placed.first?.variables.last?.value == "2")
    }

    @Test("Refused by the PBX: Failed, not retried; not placed: the StartRetry comes back out, nothing counted")
    func refusedAndNotPlaced() {
        let text = callText(["Channel": "Sim/x", "MaxRetries": "3", "Application": "Wait", "Archive": "yes"])
        var kit = Self.dialled("refused.call", text)
        kit.report("refused.call", .rejected("Extension does not exist."))
        kit.completeMoves()
        #expect(kit.finished("refused.call")?.0 == .failed)
        #expect(kit.logged("[refused.call] attempt 1 of 4 on Sim/x: refused by the PBX: Extension does not exist.; not retried"))

        kit = Self.dialled("later.call", text)
        kit.report("later.call", .notPlaced("no AMI connection"))
        #expect(kit.outgoing["later.call"]?.text == text)
        #expect(kit.outgoing["later.call"]?.mtime == EngineCoreKit.t0)
        #expect(kit.emitted.contains(.notPlaced(file: "later.call")))
        #expect(!kit.emitted.contains { if case .attemptEnded = $0 { true } else { false } })
        kit.advance(by: .seconds(1))
        #expect(kit.started("later.call") == [1, 1])
    }
}
