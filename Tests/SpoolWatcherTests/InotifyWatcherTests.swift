import Foundation
import Synchronization
import Testing
import TestSupport
@testable import SpoolWatcher

/// The watcher on real directories, driven by the commands writers and administrators use.
/// Serialized because the overflow test holds the shared reader thread.
@Suite(.serialized)
struct InotifyWatcherTests {
    @Test func startListsEveryEntryButDotNamesWithoutOpeningAFIFO() async throws {
        let spool = try TemporarySpool()
        try spool.write("outgoing/a.call")
        try spool.write("outgoing/b.call")
        try spool.write("outgoing/.staging")
        try spool.shell("mkfifo outgoing/pipe")
        let recorder = Recorder(SpoolWatcher(directory: spool.outgoing))
        let names = await recorder.waitForRescan(reason: .initial)
        #expect(names.map { Set($0) } == ["a.call", "b.call", "pipe"])
        await recorder.stop()
    }

    @Test func renamedInWithMvAppears() async throws {
        let spool = try TemporarySpool()
        let recorder = Recorder(SpoolWatcher(directory: spool.outgoing))
        #expect(await recorder.waitForRescan(reason: .initial) == [])
        try spool.write("staging/x.call")
        try spool.shell("mv staging/x.call outgoing/x.call")
        #expect(await recorder.waitFor(.appeared("x.call")))
        await recorder.stop()
    }

    @Test func runHandsTheSameChangesAndStopsAtCancellation() async throws {
        let spool = try TemporarySpool()
        try spool.write("outgoing/first.call")
        let recorder = Recorder(SpoolWatcher(directory: spool.outgoing), viaRun: true)
        #expect(await recorder.waitForRescan(reason: .initial) == ["first.call"])
        try spool.write("staging/x.call")
        try spool.shell("mv staging/x.call outgoing/x.call")
        #expect(await recorder.waitFor(.appeared("x.call")))
        await recorder.stop()
        // Cancelled: unsubscribed, so a later change is not handed on (a second watch proves it has been seen).
        let seen = recorder.changes.count
        try spool.write("staging/y.call")
        try spool.shell("mv staging/y.call outgoing/y.call")
        let witness = Recorder(SpoolWatcher(directory: spool.outgoing))
        #expect(await witness.waitForRescan(reason: .initial).map { Set($0) } == ["first.call", "x.call", "y.call"])
        try spool.shell("mv outgoing/y.call staging/y.call")
        #expect(await witness.waitFor(.removed("y.call")))
        await witness.stop()
        #expect(recorder.changes.count == seen, "changes after the end: \(recorder.changes.dropFirst(seen))")
    }

    @Test func runHandsOverTheFirstListingsDotNamesBeforeTheListing() async throws {
        let spool = try TemporarySpool()
        try spool.write("outgoing/a.call")
        try spool.write("outgoing/.a.call.spoold-rewrite")
        try spool.write("outgoing/.staged")
        // What had been delivered when the dot names came: nothing yet (they come first), and only once.
        let handedOver = Mutex<[(names: [String], deliveredBefore: Int)]>([])
        let delivered = Mutex<[SpoolChange]>([])
        let task = Task {
            await SpoolWatcher(directory: spool.outgoing).run(dotNamesAtStart: { names in
                handedOver.withLock { $0.append((names, delivered.withLock { $0.count })) }
            }) { batch in delivered.withLock { $0.append(contentsOf: batch) } }
        }
        try await TestSupport.waitUntil("the first listing", timeout: .seconds(30), every: .milliseconds(10)) {
            !delivered.withLock { $0.isEmpty }
        }
        try spool.write("staging/.later")
        try spool.shell("mv staging/.later outgoing/.later && mv outgoing/a.call staging/a.call")
        try await TestSupport.waitUntil("the removal", timeout: .seconds(30), every: .milliseconds(10)) {
            delivered.withLock { $0.contains(.removed("a.call")) }
        }
        task.cancel()
        await task.value
        let calls = handedOver.withLock { $0 }
        #expect(calls.count == 1)
        #expect(calls.first.map { Set($0.names) } == [".a.call.spoold-rewrite", ".staged"])
        #expect(calls.first?.deliveredBefore == 0)
        #expect(delivered.withLock { $0.first } == .rescan(["a.call"], reason: .initial))
    }

    @Test func copiedInWithCpAppearsWhenClosed() async throws {
        let spool = try TemporarySpool()
        try spool.write("staging/src.call")
        let recorder = Recorder(SpoolWatcher(directory: spool.outgoing))
        #expect(await recorder.waitForRescan(reason: .initial) == [])
        try spool.shell("cp staging/src.call outgoing/copy.call")
        #expect(await recorder.waitFor(.appeared("copy.call")))
        let aboutCopy = recorder.changes.filter { $0 == .appeared("copy.call") || $0 == .changed("copy.call") }
        #expect(aboutCopy.first == .appeared("copy.call"))
        await recorder.stop()
    }

    @Test func hardLinkedWithLnOrMadeWithMkfifoAppearsAfterTheGrace() async throws {
        let spool = try TemporarySpool()
        try spool.write("staging/src.call")
        let recorder = Recorder(SpoolWatcher(directory: spool.outgoing))
        #expect(await recorder.waitForRescan(reason: .initial) == [])
        try spool.shell("ln staging/src.call outgoing/link.call && mkfifo outgoing/fifo")
        #expect(await recorder.waitFor(.appeared("link.call")))
        #expect(await recorder.waitFor(.appeared("fifo")))
        await recorder.stop()
    }

    @Test func touchedWithTouchDIsChanged() async throws {
        let spool = try TemporarySpool()
        try spool.write("outgoing/wake.call")
        let recorder = Recorder(SpoolWatcher(directory: spool.outgoing))
        #expect(await recorder.waitForRescan(reason: .initial) == ["wake.call"])
        try spool.shell("touch -d '2030-01-01 07:00' outgoing/wake.call")
        #expect(await recorder.waitFor(.changed("wake.call")))
        await recorder.stop()
    }

    @Test func rewrittenInPlaceIsChanged() async throws {
        let spool = try TemporarySpool()
        try spool.write("outgoing/a.call")
        let recorder = Recorder(SpoolWatcher(directory: spool.outgoing))
        #expect(await recorder.waitForRescan(reason: .initial) == ["a.call"])
        try spool.shell("echo 'Channel: Local/200@test' > outgoing/a.call")
        #expect(await recorder.waitFor(.changed("a.call")))
        await recorder.stop()
    }

    @Test func deletedWithRmOrRenamedAwayIsRemoved() async throws {
        let spool = try TemporarySpool()
        try spool.write("outgoing/gone.call")
        try spool.write("outgoing/moved.call")
        let recorder = Recorder(SpoolWatcher(directory: spool.outgoing))
        #expect(await recorder.waitForRescan(reason: .initial).map(Set.init) == ["gone.call", "moved.call"])
        try spool.shell("rm outgoing/gone.call")
        try spool.shell("mv outgoing/moved.call staging/")
        #expect(await recorder.waitFor(.removed("gone.call")))
        #expect(await recorder.waitFor(.removed("moved.call")))
        await recorder.stop()
    }

    @Test func dotNamesAreNeverReported() async throws {
        let spool = try TemporarySpool()
        let recorder = Recorder(SpoolWatcher(directory: spool.outgoing))
        #expect(await recorder.waitForRescan(reason: .initial) == [])
        try spool.shell("echo 'Channel: Local/1@t' > outgoing/.tmp && touch outgoing/.tmp && mv outgoing/.tmp outgoing/real.call")
        #expect(await recorder.waitFor(.appeared("real.call")))
        let names = recorder.changes.flatMap { change -> [String] in
            switch change {
            case .appeared(let name), .changed(let name), .removed(let name): [name]
            case .rescan(let names, _): names
            }
        }
        #expect(!names.contains { $0.hasPrefix(".") })
        await recorder.stop()
    }

    @Test func deletedAndRecreatedDirectoryIsWatchedAgain() async throws {
        let spool = try TemporarySpool()
        try spool.write("outgoing/old.call")
        let recorder = Recorder(SpoolWatcher(directory: spool.outgoing))
        #expect(await recorder.waitForRescan(reason: .initial) == ["old.call"])
        try spool.shell("rm -rf outgoing && mkdir outgoing")
        #expect(await recorder.waitForRescan(reason: .directoryRecreated) { $0.isEmpty } != nil)
        try spool.write("staging/new.call")
        try spool.shell("mv staging/new.call outgoing/")
        #expect(await recorder.waitFor(.appeared("new.call")))
        await recorder.stop()
    }

    @Test func directoryRenamedAwayAndReplacedIsListedAgain() async throws {
        let spool = try TemporarySpool()
        let recorder = Recorder(SpoolWatcher(directory: spool.outgoing))
        #expect(await recorder.waitForRescan(reason: .initial) == [])
        try spool.shell("mv outgoing outgoing.old && mkdir next && touch next/waiting.call && mv next outgoing")
        #expect(await recorder.waitForRescan(reason: .directoryRecreated) { $0 == ["waiting.call"] } != nil)
        try spool.shell("touch outgoing.old/ghost.call outgoing/later.call")
        #expect(await recorder.waitFor(.appeared("later.call")))
        #expect(!recorder.changes.contains(.appeared("ghost.call")))
        await recorder.stop()
    }

    @Test func recreatedParentAndDirectoryAreWatchedAgain() async throws {
        let spool = try TemporarySpool()
        try spool.shell("mkdir -p asterisk/outgoing")
        let recorder = Recorder(SpoolWatcher(directory: spool.root + "/asterisk/outgoing"))
        #expect(await recorder.waitForRescan(reason: .initial) == [])
        try spool.shell("rm -rf asterisk && mkdir -p asterisk/outgoing")
        try spool.write("staging/back.call")
        try spool.shell("mv staging/back.call asterisk/outgoing/")
        #expect(await recorder.waitForChanges("back.call to be seen") { changes in
            changes.contains(.appeared("back.call"))
                || changes.contains(.rescan(["back.call"], reason: .directoryRecreated))
        })
        try spool.write("staging/next.call")
        try spool.shell("mv staging/next.call asterisk/outgoing/")
        #expect(await recorder.waitFor(.appeared("next.call")))
        await recorder.stop()
    }

    @Test func missingDirectoryIsWaitedFor() async throws {
        let spool = try TemporarySpool()
        try spool.shell("rmdir outgoing")
        let recorder = Recorder(SpoolWatcher(directory: spool.outgoing))
        #expect(await recorder.waitForRescan(reason: .initial) == [])
        try spool.shell("mkdir outgoing && touch outgoing/first.call")
        #expect(await recorder.waitForChanges("first.call to be seen") { changes in
            changes.contains(.appeared("first.call"))
                || changes.contains(.rescan(["first.call"], reason: .directoryRecreated))
        })
        await recorder.stop()
    }

    @Test func queueOverflowLeadsToAFullRescan() async throws {
        let spool = try TemporarySpool()
        let recorder = Recorder(SpoolWatcher(directory: spool.outgoing))
        #expect(await recorder.waitForRescan(reason: .initial) == [])
        // Hold the reader so the kernel queue fills: each file costs CREATE, OPEN and CLOSE_WRITE.
        let limit = Int((try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 16384
        let count = limit / 3 + 500
        let gate = await InotifyHub.shared.pauseReader()
        for index in 0..<count {
            let descriptor = open("\(spool.outgoing)/f\(index).call", O_CREAT | O_WRONLY, 0o644)
            close(descriptor)
        }
        gate.signal()
        let names = await recorder.waitForRescan(reason: .overflow)
        #expect(names?.count == count)
        await recorder.stop()
    }

    @Test func severalWatchersOfOneDirectoryEachSeeChanges() async throws {
        let spool = try TemporarySpool()
        let first = Recorder(SpoolWatcher(directory: spool.outgoing))
        let second = Recorder(SpoolWatcher(directory: spool.outgoing + "/"))
        #expect(await first.waitForRescan(reason: .initial) == [])
        #expect(await second.waitForRescan(reason: .initial) == [])
        try spool.shell("touch staging/a.call && mv staging/a.call outgoing/")
        #expect(await first.waitFor(.appeared("a.call")))
        #expect(await second.waitFor(.appeared("a.call")))
        await first.stop()
        try spool.shell("touch staging/b.call && mv staging/b.call outgoing/")
        #expect(await second.waitFor(.appeared("b.call")))
        await second.stop()
    }

    @Test func cancellingTheConsumerEndsIterationAndReleasesTheWatch() async throws {
        let spool = try TemporarySpool()
        let recorder = Recorder(SpoolWatcher(directory: spool.outgoing))
        #expect(await recorder.waitForRescan(reason: .initial) == [])
        let watched = try #require(KernelWatches.inode(of: spool.outgoing))
        let parent = try #require(KernelWatches.inode(of: spool.root))
        #expect(KernelWatches.watchedInodes().isSuperset(of: [watched, parent]))
        await recorder.stop()
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline, !KernelWatches.watchedInodes().isDisjoint(with: [watched, parent]) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(KernelWatches.watchedInodes().isDisjoint(with: [watched, parent]))
    }
}
