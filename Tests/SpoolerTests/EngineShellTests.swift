#if canImport(Glibc)
import Glibc
#endif
import CallFile
import EngineTestSupport
import Testing
@testable import Spooler

/// The shell on a real directory: that it carries out the core's actions with the right system calls, in the
/// right order, and feeds every result back. The rules themselves are the table tests'.
@Suite("Engine shell: a real spool directory")
struct EngineShellTests {
    let t0 = EngineHarness.t0
    static let answered = callText(["Channel": "Sim/answer", "Application": "Wait", "Archive": "yes"])

    @Test("A due file is read, recorded, dialled, marked and archived; the log says so")
    func answered() async throws {
        let harness = try EngineHarness()
        try await harness.start()
        let text = callText(["Channel": "Local/s@answer", "MaxRetries": "0", "RetryTime": "5", "Context": "target",
                             "Extension": "s", "Priority": "1", "Archive": "yes"])
        try harness.submit("ref-answer.call", text)
        #expect(try await harness.finished("ref-answer.call") == (.completed, .archived("ref-answer.call")))
        #expect(harness.archived("ref-answer.call") == text + "\nStartRetry: 2381 1 (\(t0.seconds + 5))\nStatus: Completed\n")
        #expect(harness.pbx.placedRequests.first?.channelId == ChannelID.make(fileName: "ref-answer.call", startEpoch: t0.seconds + 5, attempt: 1))
        #expect(harness.log.contains("[ref-answer.call] finished: Completed on attempt 1 of 1; archived to outgoing_done/ref-answer.call"))
        #expect(harness.names(in: harness.outgoing).isEmpty)
        await harness.stop()
        #expect(harness.log.messages.last == "notice: spoold stopped")
    }

    @Test("Files present at start-up are scheduled; dotfiles are never touched; a crash's rewrite temporary is removed")
    func startupListing() async throws {
        let harness = try EngineHarness()
        try harness.submit("present.call", Self.answered, announce: false)
        try harness.submit(".staged.call", Self.answered, announce: false)
        try harness.submit(".x.call.spoold-rewrite", "half", announce: false)
        try await harness.start()
        #expect(harness.log.contains("spoold ready: 1 call files scheduled in \(harness.outgoing)"))
        _ = try await harness.finished("present.call")
        #expect(harness.names(in: harness.outgoing) == [".staged.call"])
        await harness.stop()
    }

    @Test("The watcher's first listing is the start-up listing; a crash's rewrite temporary is still removed; the rest of its batch follows")
    func watcherListing() async throws {
        let harness = try EngineHarness()
        try harness.submit("listed.call", Self.answered, announce: false)
        try harness.submit("later.call", Self.answered, announce: false)
        try harness.submit(".x.call.spoold-rewrite", "half", announce: false)
        harness.engine.apply([.rescan(["listed.call"], reason: .initial), .appeared("later.call")])
        try await harness.start(listedByWatcher: true)
        #expect(harness.log.contains("spoold ready: 1 call files scheduled in \(harness.outgoing)"), "not the watcher's listing")
        for _ in 0..<2 { _ = try await harness.next("a finish") { if case .finished = $0 { true } else { false } } }  // either order
        #expect(harness.names(in: harness.outgoing).isEmpty)
        await harness.stop()
    }

    @Test("The dot names the watcher's first listing saw are taken as they are handed over: outgoing/ is not listed again for them")
    func watcherDotNames() async throws {
        let harness = try EngineHarness()
        try harness.submit("listed.call", Self.answered, announce: false)
        try harness.submit(".x.call.spoold-rewrite", "half", announce: false)
        try harness.submit(".y.call.spoold-rewrite", "half", announce: false)  // not in the watcher's listing: not seen
        harness.engine.takeDotNames(ofFirstListing: [".x.call.spoold-rewrite"])
        harness.engine.apply([.rescan(["listed.call"], reason: .initial)])
        try await harness.start(listedByWatcher: true)
        #expect(harness.log.contains("spoold ready: 1 call files scheduled in \(harness.outgoing)"))
        _ = try await harness.finished("listed.call")
        #expect(harness.names(in: harness.outgoing) == [".y.call.spoold-rewrite"])
        await harness.stop()
    }

    @Test("A start-up listing of several lstat batches (a helper thread beside the engine's): every file scheduled and swept")
    func longListing() async throws {
        let harness = try EngineHarness()
        let count = 3 * StartupLookup.batchSize + 5
        let names = (0..<count).map { "f\($0).call" }
        for (index, name) in names.enumerated() {
            try harness.submit(name, Self.answered, mtime: t0.adding(seconds: 3600 + index), announce: false)
        }
        try harness.submit(".z.call.spoold-rewrite", "half", announce: false)
        harness.engine.apply([.rescan(names, reason: .initial)])
        try await harness.start(listedByWatcher: true)
        #expect(harness.log.contains("spoold ready: \(count) call files scheduled in \(harness.outgoing)"))
        let snapshot = await harness.engine.queueSnapshot()
        #expect(snapshot.scheduled == count && snapshot.nextDue == t0.adding(seconds: 3600))
        #expect(!harness.names(in: harness.outgoing).contains(".z.call.spoold-rewrite"))
        await harness.stop()
    }

    @Test("A watcher's empty first listing (it could not list): the engine lists outgoing/ itself")
    func emptyWatcherListing() async throws {
        let harness = try EngineHarness()
        try harness.submit("a.call", Self.answered, announce: false)
        try harness.submit("b.call", Self.answered, announce: false)
        harness.engine.apply([.rescan([], reason: .initial)])
        try await harness.start(listedByWatcher: true)
        #expect(harness.log.contains("spoold ready: 2 call files scheduled in \(harness.outgoing)"))
        await harness.stop()
    }

    @Test("An older archive of the same name is kept as <name>.1, then .2")
    func collision() async throws {
        let harness = try EngineHarness()
        mkdir(harness.done, 0o755)
        try EngineHarness.write(Array("old archive\nStatus: Completed\n".utf8), to: harness.done + "/same.call")
        try await harness.start()
        try harness.submit("same.call", Self.answered)
        #expect(try await harness.finished("same.call").1 == .archived("same.call"))
        try harness.submit("same.call", Self.answered)
        _ = try await harness.finished("same.call")
        #expect(harness.names(in: harness.done) == ["same.call", "same.call.1", "same.call.2"])
        #expect(harness.archived("same.call.1") == "old archive\nStatus: Completed\n")
        await harness.stop()
    }

    @Test("Archives a crash interrupted are finished at start-up: Status appended once, old archive kept", arguments: [false, true])
    func stagedRecovery(statusAlreadyAppended: Bool) async throws {
        let harness = try EngineHarness()
        mkdir(harness.done, 0o755)
        let body = "Channel: Sim/busy\nApplication: Wait\nArchive: yes\n\nStartRetry: 9 1 (5)\n"
        try EngineHarness.write(Array((body + (statusAlreadyAppended ? "Status: Expired\n" : "")).utf8),
                                to: harness.done + "/.crashed.call.Expired.spoold-archiving")
        try EngineHarness.write(Array("older\n".utf8), to: harness.done + "/crashed.call")
        try await harness.start()
        #expect(harness.archived("crashed.call") == body + "Status: Expired\n")
        #expect(harness.archived("crashed.call.1") == "older\n")
        #expect(harness.names(in: harness.done) == ["crashed.call", "crashed.call.1"])
        #expect(harness.log.contains("[crashed.call] finished an archive interrupted by a stop or crash"))
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
        try EngineHarness.write(Array("Channel: Sim/answer\n".utf8), to: harness.outgoing + "/keep.call")
        let keep = try #require(archiver.markFinished("keep.call", status: .expired))
        #expect(try archiver.moveMarked("keep.call", file: keep) == "keep.call")
        #expect(harness.archived("keep.call") == "Channel: Sim/answer\nStatus: Expired\n")
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

    @Test("A symlink is never followed: recorded in outgoing_done, the target untouched, the link removed")
    func symlink() async throws {
        let harness = try EngineHarness()
        try await harness.start()
        let target = harness.root + "/staging/target.call"
        try EngineHarness.write(Array(Self.answered.utf8), to: target)
        Glibc.symlink(target, harness.outgoing + "/link.call")
        harness.changed(.appeared("link.call"))
        #expect(try await harness.finished("link.call") == (.failed, .archived("link.call")))
        #expect(EngineHarness.read(target) == Self.answered)
        #expect(harness.archived("link.call")?.contains("symlink to \(target)") == true)
        #expect(harness.inOutgoing("link.call") == nil)
        #expect(harness.pbx.placedRequests.isEmpty)
        await harness.stop()
    }

    @Test("A FIFO is skipped with a warning and blocks nothing")
    func fifo() async throws {
        let harness = try EngineHarness()
        mkfifo(harness.outgoing + "/startup.fifo", 0o644)
        try await harness.start()
        try harness.submit("real.call", Self.answered)
        _ = try await harness.finished("real.call")
        #expect(harness.log.messages.filter { $0.contains("[startup.fifo]") && $0.contains("FIFO") }.count == 1)
        await harness.stop()
    }

    @Test("AlwaysDelete: no, mtime moved during the call: the rewrite leaves the original bytes and no temporary")
    func keptForReuse() async throws {
        let harness = try EngineHarness()
        try await harness.start()
        let original = callText(["Channel": "Sim/answer/0/2000", "RetryTime": "1", "AlwaysDelete": "no", "Application": "Wait"])
        try harness.submit("wakeup.call", original)
        _ = try await harness.attemptStarted("wakeup.call")
        try EngineHarness.setMtime(harness.outgoing + "/wakeup.call", t0.adding(seconds: 60))
        harness.advance(by: .seconds(2))
        #expect(try await harness.next { if case .keptForReuse = $0 { true } else { false } } == .keptForReuse(file: "wakeup.call", due: t0.adding(seconds: 60)))
        #expect(harness.inOutgoing("wakeup.call") == original)
        #expect(harness.mtime(harness.outgoing + "/wakeup.call") == t0.adding(seconds: 60))
        #expect(harness.names(in: harness.outgoing) == ["wakeup.call"])
        await harness.stop()
    }

    @Test("When outgoing_done cannot be made the file stays in outgoing with its Status, and the move is retried")
    func blockedArchive() async throws {
        let harness = try EngineHarness()
        try EngineHarness.write(Array("in the way\n".utf8), to: harness.done)
        try await harness.start()
        try harness.submit("blocked.call", Self.answered)
        _ = try await harness.next { $0 == .stepFailed(file: "blocked.call", step: "archive") }
        #expect(harness.inOutgoing("blocked.call")?.hasSuffix("Status: Completed\n") == true)
        unlink(harness.done)
        harness.advance(by: .seconds(10))
        #expect(try await harness.finished("blocked.call").0 == .completed)
        #expect(harness.pbx.placedRequests.count == 1)
        await harness.stop()
    }

    @Test("A call in flight at a stop keeps its StartRetry; the next engine adopts it and follows it to its hangup")
    func stopThenAdopt() async throws {
        let first = try EngineHarness()
        try await first.start()
        let text = callText(["Channel": "Sim/answer/0/30000", "MaxRetries": "2", "RetryTime": "5", "Application": "Wait", "Archive": "yes"])
        try first.submit("long.call", text)
        _ = try await first.attemptStarted("long.call")
        #expect(await first.engine.activity() == EngineActivity(scheduled: 0, inFlight: 1))
        await first.stop()
        #expect(first.log.contains("stopping with 1 calls still in flight"))
        #expect(first.inOutgoing("long.call") == text + "\nStartRetry: 2381 1 (\(t0.seconds + 5))\n")

        let second = try EngineHarness(root: first.root, pbx: first.pbx, clock: first.clock)
        try await second.start()
        _ = try await second.next { $0 == .adopted(file: "long.call", channelId: ChannelID.make(fileName: "long.call", startEpoch: t0.seconds + 5, attempt: 1)) }
        second.advance(by: .seconds(30))
        #expect(try await second.finished("long.call").0 == .completed)
        #expect(second.archived("long.call") == text + "\nStartRetry: 2381 1 (\(t0.seconds + 5))\nStatus: Completed\n")
        #expect(first.pbx.placedRequests.count == 1, "the adopted call was dialled again")
        await second.stop()
    }

    @Test("The StartRetry's descriptor is kept while the call is in flight: the Status line goes through it, and it is closed at the look after the call or at a stop")
    func keptDescriptor() async throws {
        let harness = try EngineHarness()
        try await harness.start()
        let text = callText(["Channel": "Sim/answer/0/5000", "Application": "Wait", "Archive": "yes"])
        try harness.submit("talk.call", text)
        _ = try await harness.attemptStarted("talk.call")
        #expect(await harness.engine.heldNames == ["talk.call"])
        harness.advance(by: .seconds(5))
        #expect(try await harness.finished("talk.call") == (.completed, .archived("talk.call")))
        #expect(harness.archived("talk.call") == text + "\nStartRetry: 2381 1 (\(t0.seconds + 300))\nStatus: Completed\n")  // RetryTime 300
        #expect(await harness.engine.heldNames.isEmpty)

        // Replaced by rename during the call: the look after it finds another file, so nothing is written
        // through the kept descriptor (nor into the new file), and the descriptor is closed all the same.
        try harness.submit("swap.call", text)
        _ = try await harness.attemptStarted("swap.call")
        let replacement = callText(["Channel": "Sim/answer", "Application": "Wait", "Archive": "yes"])
        try harness.submit("swap.call", replacement, mtime: t0.adding(seconds: 3600), announce: false)
        harness.advance(by: .seconds(5))
        _ = try await harness.next { $0 == .replacedInFlight(file: "swap.call") }
        #expect(await harness.engine.heldNames.isEmpty)
        #expect(harness.inOutgoing("swap.call") == replacement)

        try harness.submit("long.call", callText(["Channel": "Sim/answer/0/60000", "Application": "Wait"]))
        _ = try await harness.attemptStarted("long.call")
        #expect(await harness.engine.heldNames == ["long.call"])
        await harness.stop()
        #expect(await harness.engine.heldNames.isEmpty)
    }

    @Test("A reload reaches the running engine through its inbox")
    func reload() async throws {
        let harness = try EngineHarness { $0.maxConcurrent = 1 }
        try await harness.start()
        await harness.engine.applyLimits(EngineLimits(maxConcurrent: 5, maxCallsPerSecond: 0, trunks: []))
        try harness.submit("x.call", Self.answered)
        _ = try await harness.finished("x.call")
        #expect(harness.log.contains("limits now: max 5 in flight, no limit per second globally; no per-trunk limits"))
        #expect(await harness.engine.limits.maxConcurrent == 5)
        await harness.stop()
    }
}
