#if canImport(Glibc)
import Glibc
#endif
import CallFile
import Testing
@testable import Spooler

@Suite("Engine: finishing, AlwaysDelete, archive safety")
struct EngineFinishingTests {
    let t0 = EngineHarness.t0

    @Test("AlwaysDelete: no with nobody moving the mtime finishes normally, whether the call ends before or after t+2R",
          arguments: [1, 5])
    func alwaysDeleteNoUntouched(callSeconds: Int) async throws {
        let harness = try EngineHarness()
        try await harness.start()
        let text = callText(["Channel": "Sim/answer/0/\(callSeconds * 1000)", "RetryTime": "2", "AlwaysDelete": "no",
                             "Application": "Wait", "Archive": "yes"])
        try harness.submit("keep.call", text)
        _ = try await harness.attemptStarted("keep.call")
        // The call ends at t+1 (spoold's own mtime t+4 still ahead: Asterisk would keep the file for ever) or t+5.
        await harness.advance(by: .seconds(callSeconds))
        #expect(try await harness.finished("keep.call").0 == .completed)
        #expect(harness.archived("keep.call") == text + "\nStartRetry: 2381 1 (\(t0.seconds + 2))\nStatus: Completed\n")
        await harness.stop()
    }

    @Test("A file replaced by rename while its call is in flight: the call's records go into no file, the new file is a new call")
    func replacedWhileInFlight() async throws {
        let harness = try EngineHarness()
        try await harness.start()
        let original = callText(["Channel": "Sim/answer/0/3000", "RetryTime": "5", "Application": "Wait", "Archive": "yes"])
        try harness.submit("swap.call", original)
        _ = try await harness.attemptStarted("swap.call")
        let replacement = callText(["Channel": "Sim/answer", "Application": "Playback", "Data": "new", "Archive": "yes"])
        try harness.submit("swap.call", replacement)  // ignored while busy: the engine sees it when the call ends
        await harness.advance(by: .seconds(3))
        #expect(try await harness.next { if case .replacedInFlight = $0 { true } else { false } } == .replacedInFlight(file: "swap.call"))
        #expect(try await harness.attemptStarted("swap.call") == 1)
        #expect(try await harness.finished("swap.call").0 == .completed)
        // Only the replacement's own attempt is in its archive; the first call's records went nowhere.
        #expect(harness.archived("swap.call") == replacement + "\nStartRetry: 2381 1 (\(t0.seconds + 3 + 300))\nStatus: Completed\n")  // RetryTime 300, the default
        #expect(harness.pbx.placedRequests.map(\.channel) == ["Sim/answer/0/3000", "Sim/answer"])
        #expect(harness.log.contains("[swap.call]", "the file was replaced while its call was in flight"))
        await harness.stop()
    }

    @Test("AlwaysDelete: no, mtime moved into the future during the call: kept, spoold's records removed, due again then")
    func alwaysDeleteNoRescheduled() async throws {
        let harness = try EngineHarness()
        try await harness.start()
        let original = callText(["Channel": "Sim/answer/0/2000", "RetryTime": "1", "AlwaysDelete": "no", "Application": "Wait", "Archive": "yes"])
        try harness.submit("wakeup.call", original)
        _ = try await harness.attemptStarted("wakeup.call")
        let rescheduled = t0.adding(seconds: 60)
        try EngineHarness.setMtime(harness.outgoing + "/wakeup.call", rescheduled)  // what the dialplan does
        harness.changed(.changed("wakeup.call"))  // ignored: the file is busy
        await harness.advance(by: .seconds(2))
        let kept = try await harness.next { if case .keptForReuse = $0 { true } else { false } }
        #expect(kept == .keptForReuse(file: "wakeup.call", due: rescheduled))
        #expect(harness.inOutgoing("wakeup.call") == original)
        #expect(harness.mtime(harness.outgoing + "/wakeup.call") == rescheduled)
        #expect(harness.names(in: harness.outgoing) == ["wakeup.call"], "a rewrite temporary was left behind")
        await harness.advance(to: rescheduled)
        #expect(try await harness.attemptStarted("wakeup.call") == 1, "the reused file is a fresh call")
        await harness.advance(by: .seconds(2))
        #expect(try await harness.finished("wakeup.call").0 == .completed)
        #expect(harness.archived("wakeup.call") == original + "\nStartRetry: 2381 1 (\(rescheduled.seconds + 1))\nStatus: Completed\n")
        await harness.stop()
    }

    @Test("An older archive of the same name is kept as <name>.1, then .2")
    func collision() async throws {
        let harness = try EngineHarness()
        mkdir(harness.done, 0o755)
        try EngineHarness.write(Array("old archive\nStatus: Completed\n".utf8), to: harness.done + "/same.call")
        try await harness.start()
        let text = callText(["Channel": "Sim/answer", "Application": "Wait", "Archive": "yes"])
        try harness.submit("same.call", text)
        #expect(try await harness.finished("same.call").1 == .archived("same.call"))
        try harness.submit("same.call", text)
        _ = try await harness.finished("same.call")
        #expect(harness.names(in: harness.done) == ["same.call", "same.call.1", "same.call.2"])
        #expect(harness.archived("same.call.1") == "old archive\nStatus: Completed\n")
        #expect(harness.archived("same.call.2")?.hasPrefix(text) == true)
        #expect(harness.archived("same.call")?.hasPrefix(text) == true)
        await harness.stop()
    }

    @Test("Archives a crash interrupted are finished at start-up: Status appended once, old archive kept", arguments: [false, true])
    func stagedRecovery(statusAlreadyAppended: Bool) async throws {
        let harness = try EngineHarness()
        mkdir(harness.done, 0o755)
        let body = "Channel: Sim/busy\nApplication: Wait\nArchive: yes\n\nStartRetry: 9 1 (5)\n"
        let staged = body + (statusAlreadyAppended ? "Status: Expired\n" : "")
        try EngineHarness.write(Array(staged.utf8), to: harness.done + "/.crashed.call.Expired.spoold-archiving")
        try EngineHarness.write(Array("older\n".utf8), to: harness.done + "/crashed.call")
        try await harness.start()
        #expect(harness.archived("crashed.call") == body + "Status: Expired\n")
        #expect(harness.archived("crashed.call.1") == "older\n")
        #expect(harness.names(in: harness.done) == ["crashed.call", "crashed.call.1"])
        #expect(harness.pbx.placedRequests.isEmpty)
        await harness.stop()
    }

    @Test("A file a stop caught between its Status line and its archive is archived at start, never dialled",
          arguments: [false, true])
    func finishedBeforeStop(futureMtime: Bool) async throws {
        let harness = try EngineHarness()
        let text = "Channel: Sim/answer\nApplication: Wait\nArchive: yes\n\nStartRetry: 9 1 (5)\nStatus: Completed\n"
        // spoold's own StartRetry mtime lies RetryTime ahead; a file already due is the other case.
        try harness.submit("marked.call", text, mtime: futureMtime ? t0.adding(seconds: 600) : t0, announce: false)
        try await harness.start()
        #expect(try await harness.finished("marked.call") == (.completed, .archived("marked.call")))
        #expect(harness.archived("marked.call") == text, "no second Status line, no new record")
        #expect(harness.pbx.placedRequests.isEmpty)
        #expect(harness.names(in: harness.outgoing).isEmpty)
        await harness.stop()
    }

    @Test("The archive step moves only the file that was marked: a file renamed over it meanwhile stays in outgoing/")
    func markedFileReplaced() throws {
        let harness = try EngineHarness()
        let outgoing = try SpoolDirectory(path: harness.outgoing, create: true)
        let archiver = Archiver(outgoing: outgoing, donePath: harness.done)
        try EngineHarness.write(Array("Channel: Sim/answer\nStartRetry: 1 1 (2)\n".utf8), to: harness.outgoing + "/swap.call")
        let marked = try #require(archiver.markFinished("swap.call", status: .completed))
        #expect(harness.inOutgoing("swap.call") == "Channel: Sim/answer\nStartRetry: 1 1 (2)\nStatus: Completed\n")
        try harness.submit("swap.call", "Channel: Sim/answer\nApplication: Wait\n", announce: false)
        #expect(try archiver.moveMarked("swap.call", file: marked) == nil)
        #expect(harness.inOutgoing("swap.call") == "Channel: Sim/answer\nApplication: Wait\n")
        #expect(harness.names(in: harness.done).isEmpty)
        // The marked file itself moves, under its own name.
        try EngineHarness.write(Array("Channel: Sim/answer\n".utf8), to: harness.outgoing + "/keep.call")
        let keep = try #require(archiver.markFinished("keep.call", status: .expired))
        #expect(try archiver.moveMarked("keep.call", file: keep) == "keep.call")
        #expect(harness.archived("keep.call") == "Channel: Sim/answer\nStatus: Expired\n")
    }

    @Test("When outgoing_done cannot be made the file stays in outgoing, is never dialled again, and the archive is retried")
    func blockedArchive() async throws {
        let harness = try EngineHarness()
        try EngineHarness.write(Array("in the way\n".utf8), to: harness.done)
        try await harness.start()
        try harness.submit("blocked.call", callText(["Channel": "Sim/answer", "Application": "Wait", "Archive": "yes"]))
        _ = try await harness.next { $0 == .stepFailed(file: "blocked.call", step: "archive") }
        #expect(harness.inOutgoing("blocked.call") != nil)
        #expect(harness.log.contains("[blocked.call]", "outgoing_done"))
        unlink(harness.done)
        await harness.advance(by: .seconds(10))
        #expect(try await harness.finished("blocked.call").0 == .completed)
        #expect(harness.pbx.placedRequests.count == 1)
        await harness.stop()
    }

    @Test("Status is on a line of its own when the file did not end with a newline")
    func statusOwnLine() async throws {
        let harness = try EngineHarness()
        try await harness.start()
        try harness.submit("nolf.call", "Channel: Sim/answer\nWaitTime: 10\nArchive: yes")
        #expect(try await harness.finished("nolf.call").0 == .failed)
        #expect(harness.archived("nolf.call") == "Channel: Sim/answer\nWaitTime: 10\nArchive: yes\nStatus: Failed\n")
        await harness.stop()
    }

    @Test("Invalid files follow Asterisk: Archive → Failed in outgoing_done (callfile_ref-invalid); otherwise deleted; never dialled")
    func invalid() async throws {
        let harness = try EngineHarness()
        try await harness.start()
        let text = "Channel: Local/s@answer\nWaitTime: 10\nArchive: yes\n"
        try harness.submit("ref-invalid.call", text)
        #expect(try await harness.finished("ref-invalid.call").0 == .failed)
        #expect(harness.archived("ref-invalid.call") == text + "Status: Failed\n")
        try harness.submit("plain.call", "Channel: Sim/answer\n")
        #expect(try await harness.finished("plain.call").1 == .deleted)
        #expect(harness.pbx.placedRequests.isEmpty)
        #expect(harness.log.contains("[plain.call]", "invalid"))
        await harness.stop()
    }
}
