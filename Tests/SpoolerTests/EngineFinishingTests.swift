import CallFile
import EngineTestSupport
import Testing
@testable import Spooler

/// Finishing, AlwaysDelete, the archive's two steps and their failures, as table tests of the core.
@Suite("Engine: finishing, AlwaysDelete, archive safety")
struct EngineFinishingTests {
    let t0 = EngineCoreKit.t0

    @Test("AlwaysDelete: no with nobody moving the mtime finishes normally, whether the call ends before or after t+2R",
          arguments: [1, 5])
    func alwaysDeleteNoUntouched(callSeconds: Int) {
        let text = callText(["Channel": "Sim/x", "RetryTime": "2", "AlwaysDelete": "no", "Application": "Wait", "Archive": "yes"])
        var kit = EngineOutcomeTests.dialled("keep.call", text)
        // The call ends at t+1 (spoold's own mtime t+4 still ahead: Asterisk would keep the file for ever) or t+5.
        kit.now = t0.adding(seconds: callSeconds)
        kit.report("keep.call", .answered(channel: "x"), .hungUp)
        kit.completeMoves()
        #expect(kit.finished("keep.call")?.0 == .completed)
        #expect(kit.done["keep.call"] == text + "\nStartRetry: 2381 1 (\(t0.seconds + 2))\nStatus: Completed\n")
    }

    @Test("A file replaced by rename while its call is in flight: the call's records go into no file, the new file is a new call")
    func replacedWhileInFlight() {
        let original = callText(["Channel": "Sim/answer/0/3000", "RetryTime": "5", "Application": "Wait", "Archive": "yes"])
        var kit = EngineOutcomeTests.dialled("swap.call", original)
        let replacement = callText(["Channel": "Sim/answer", "Application": "Playback", "Data": "new", "Archive": "yes"])
        // Ignored while busy: the engine sees it when the call ends.
        #expect(kit.submit("swap.call", replacement).isEmpty)
        kit.now = t0.adding(seconds: 3)
        kit.report("swap.call", .answered(channel: "x"), .hungUp)
        #expect(kit.emitted.contains(.replacedInFlight(file: "swap.call")))
        #expect(kit.logged("[swap.call]", "the file was replaced while its call was in flight"))
        #expect(kit.started("swap.call") == [1, 1])
        kit.report("swap.call", .answered(channel: "x"), .hungUp)
        kit.completeMoves()
        // Only the replacement's own attempt is in its archive (RetryTime 300, the default).
        #expect(kit.done["swap.call"] == replacement + "\nStartRetry: 2381 1 (\(t0.seconds + 3 + 300))\nStatus: Completed\n")
        #expect(kit.placed.map(\.channel) == ["Sim/answer/0/3000", "Sim/answer"])
    }

    @Test("AlwaysDelete: no, mtime moved into the future during the call: kept, spoold's records removed, due again then")
    func alwaysDeleteNoRescheduled() {
        let original = callText(["Channel": "Sim/x", "RetryTime": "1", "AlwaysDelete": "no", "Application": "Wait", "Archive": "yes"])
        var kit = EngineOutcomeTests.dialled("wakeup.call", original)
        let rescheduled = t0.adding(seconds: 60)
        kit.outgoing["wakeup.call"]!.mtime = rescheduled  // what the dialplan does
        #expect(kit.feed(.change(.changed("wakeup.call"))).isEmpty, "busy: spoold's own changes and this one are ignored")
        kit.now = t0.adding(seconds: 2)
        kit.report("wakeup.call", .answered(channel: "x"), .hungUp)
        #expect(kit.emitted.contains(.keptForReuse(file: "wakeup.call", due: rescheduled)))
        #expect(kit.outgoing["wakeup.call"]?.text == original)
        #expect(kit.outgoing["wakeup.call"]?.mtime == rescheduled)
        #expect(kit.wake == rescheduled)
        kit.advance(to: rescheduled)
        #expect(kit.started("wakeup.call") == [1, 1], "the reused file is a fresh call")
        kit.report("wakeup.call", .answered(channel: "x"), .hungUp)
        kit.completeMoves()
        #expect(kit.done["wakeup.call"] == original + "\nStartRetry: 2381 1 (\(rescheduled.seconds + 1))\nStatus: Completed\n")
    }

    @Test("A file a stop caught between its Status line and its archive is archived at start, never dialled",
          arguments: [false, true])
    func finishedBeforeStop(futureMtime: Bool) {
        var kit = EngineCoreKit()
        let text = "Channel: Sim/answer\nApplication: Wait\nArchive: yes\n\nStartRetry: 9 1 (5)\nStatus: Completed\n"
        // spoold's own StartRetry mtime lies RetryTime ahead (read by the start-up sweep); or it is due already.
        kit.put("marked.call", text, mtime: futureMtime ? t0.adding(seconds: 600) : t0)
        kit.start()
        kit.tick()
        #expect(kit.moves.map(\.name) == ["marked.call"])
        kit.completeMoves()
        #expect(kit.finished("marked.call").map { $0 == (.completed, .archived("marked.call")) } == true)
        #expect(kit.done["marked.call"] == text, "no second Status line, no new record")
        #expect(kit.placed.isEmpty)
        #expect(kit.outgoing.isEmpty)
        #expect(kit.logged("[marked.call] already finished: its Status: Completed line follows its last attempt"))
    }

    @Test("When the move into outgoing_done fails the file stays marked in outgoing, is never dialled again, and the move is retried")
    func blockedArchive() {
        var kit = EngineOutcomeTests.dialled("blocked.call", callText(["Channel": "Sim/x", "Application": "Wait", "Archive": "yes"]))
        kit.doneBlocked = true
        kit.report("blocked.call", .answered(channel: "x"), .hungUp)
        let failed = kit.completeMoves()
        #expect(kit.emitted.contains(.stepFailed(file: "blocked.call", step: "archive")))
        #expect(failed.contains(.reopenDoneDirectory))
        #expect(kit.outgoing["blocked.call"]?.text.hasSuffix("Status: Completed\n") == true)
        #expect(kit.logged("[blocked.call] finished: Completed on attempt 1 of 1, but cannot move it into outgoing_done"))
        #expect(kit.wake == t0.adding(seconds: 10))
        kit.doneBlocked = false
        // A touch meanwhile changes nothing: the name is busy until it is archived.
        #expect(kit.feed(.change(.changed("blocked.call"))).isEmpty)
        kit.advance(by: .seconds(10))
        kit.completeMoves()
        #expect(kit.finished("blocked.call")?.0 == .completed)
        #expect(kit.placed.count == 1)
        #expect(kit.done["blocked.call"]?.components(separatedBy: "Status:").count == 2, "one Status line")
    }

    @Test("A delete that fails leaves the file, is retried every stepRetryDelay and never dialled again")
    func failedDelete() {
        var kit = EngineOutcomeTests.dialled("stuck.call", callText(["Channel": "Sim/x", "Application": "Wait"]))
        kit.unlinkErrno = 13
        kit.report("stuck.call", .failed(reason: 5, text: "busy"))
        #expect(kit.emitted.contains(.stepFailed(file: "stuck.call", step: "delete")))
        #expect(kit.logged("[stuck.call] finished: Expired after 1 attempts, but cannot delete it: unlink: Permission denied (errno 13); it stays in outgoing/ (never dialled again by this spoold), trying again at \(t0.adding(seconds: 10).timeOfDay)"))
        #expect(kit.wake == t0.adding(seconds: 10))
        kit.unlinkErrno = 0
        kit.advance(by: .seconds(10))
        #expect(kit.finished("stuck.call")?.1 == .deleted)
        #expect(kit.placed.count == 1)
    }

    @Test("Invalid files follow Asterisk: Archive → Failed in outgoing_done (callfile_ref-invalid); otherwise deleted; never dialled")
    func invalid() {
        var kit = EngineCoreKit()
        kit.start()
        let text = "Channel: Local/s@answer\nWaitTime: 10\nArchive: yes\n"
        kit.submit("ref-invalid.call", text)
        kit.submit("plain.call", "Channel: Sim/answer\n")
        kit.tick()
        kit.completeMoves()
        #expect(kit.finished("ref-invalid.call")?.0 == .failed)
        #expect(kit.done["ref-invalid.call"] == text + "Status: Failed\n")
        #expect(kit.finished("plain.call")?.1 == .deleted)
        #expect(kit.placed.isEmpty)
        #expect(kit.logged("[plain.call] invalid call file: ", "; not dialled"))
    }
}
