import Foundation
import Testing
@testable import SpoolWatcher

/// Polling mode on a real directory (inotify is not involved).
struct PollingWatcherTests {
    @Test func listsAtStartAndAgainAfterChanges() async throws {
        let spool = try TemporarySpool()
        try spool.write("outgoing/a.call")
        try spool.write("outgoing/.hidden")
        let recorder = Recorder(SpoolWatcher(directory: spool.outgoing, mode: .polling(interval: .milliseconds(200))))
        #expect(await recorder.waitForRescan(reason: .initial) == ["a.call"])
        try spool.shell("touch staging/b.call && mv staging/b.call outgoing/ && rm outgoing/a.call")
        #expect(await recorder.waitForRescan(reason: .poll) { $0 == ["b.call"] } != nil)
        await recorder.stop()
    }

    @Test func missingDirectoryIsReportedEmptyThenListedWhenBack() async throws {
        let spool = try TemporarySpool()
        try spool.write("outgoing/a.call")
        let recorder = Recorder(SpoolWatcher(directory: spool.outgoing, mode: .polling(interval: .milliseconds(100))))
        #expect(await recorder.waitForRescan(reason: .initial) == ["a.call"])
        try spool.shell("rm -rf outgoing")
        #expect(await recorder.waitForRescan(reason: .directoryRecreated) { $0.isEmpty } != nil)
        // Back with its file in one rename: a poll between a mkdir and a touch would list it empty.
        try spool.shell("mkdir staging/back && touch staging/back/c.call && mv staging/back outgoing")
        #expect(await recorder.waitForRescan(reason: .directoryRecreated) { $0 == ["c.call"] } != nil)
        await recorder.stop()
    }

    @Test func cancellingEndsPolling() async throws {
        let spool = try TemporarySpool()
        let recorder = Recorder(SpoolWatcher(directory: spool.outgoing, mode: .polling(interval: .seconds(1))))
        #expect(await recorder.waitForRescan(reason: .initial) == [])
        await recorder.stop()
    }
}
