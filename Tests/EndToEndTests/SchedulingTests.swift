import Foundation
import TestSupport
import Testing

/// Contract §1 (the due time is the mtime; a future mtime waits) and §2.4 (a file replaced or touched while
/// it waits is rescheduled by its new mtime; a deleted file is forgotten).
@Suite("Scheduling by mtime")
struct SchedulingTests {
    /// Seconds between writing a file due later and that due time, for the test to start spoold and act
    /// on the waiting file first. A deadline for the set-up, so slow (sanitized) builds get more.
    static let setUpMargin = 10 * TestTimeScale.factor

    static func answered(data: String = "x") -> String {
        callFile(["Channel": "Sim/answer", "RetryTime": "1", "Application": "Playback", "Data": data, "Archive": "yes"])
    }

    /// The moment spoold read the file for its first attempt, from StartRetry's epoch (read time + RetryTime 1).
    static func firstReadTime(_ file: ArchivedCallFile) -> Int? {
        file.records("StartRetry").first.map { $0.epoch - 1 }
    }

    @Test("A file with a future mtime waits until then")
    func futureMtimeWaits() async throws {
        let spool = try TemporarySpool()
        try await withSpoold(spool: spool) { spoold in
            let due = FileSystem.now() + 3
            try spool.submit("later.call", Self.answered(), due: due)
            let untouched = try await holdsThroughout(.milliseconds(1500)) {
                spool.isInOutgoing("later.call") && spool.recordsInOutgoing("later.call").isEmpty
            }
            #expect(untouched, "the file was read before its due time")
            let file = try await spool.waitForArchive("later.call", by: spoold)
            #expect(file.status == "Completed")
            #expect(try #require(Self.firstReadTime(file)) >= Int(due))
        }
    }

    @Test("mkcall --in schedules the call and spoold waits for it")
    func mkcallInSchedules() async throws {
        let spool = try TemporarySpool()
        try await withSpoold(spool: spool) { spoold in
            let before = FileSystem.now()
            let (run, path) = try await ToolRun.mkcall([
                "--spool-dir", spool.root, "--channel", "Sim/answer", "--app", "Playback", "--data", "x",
                "--retry-time", "1", "--archive", "--in", "3s",
            ])
            #expect(run.status == 0, "\(run)")
            #expect(path.hasPrefix(spool.outgoing + "/"), "mkcall printed \(path)")
            let name = URL(fileURLWithPath: path).lastPathComponent
            // On a loaded machine mkcall can take long enough for the file to be gone already; its mtime was then
            // at least `before + 3`, which is all the check below needs.
            let due = FileSystem.mtime(path) ?? before + 3
            #expect(due >= before + 2, "mkcall --in 3s set the mtime to \(due), \(due - before) s ahead")
            let file = try await spool.waitForArchive(name, by: spoold)
            #expect(file.status == "Completed")
            #expect(try #require(Self.firstReadTime(file)) >= Int(due))
        }
    }

    @Test("A waiting file touched to an earlier time runs then")
    func touchedEarlierRunsEarlier() async throws {
        let spool = try TemporarySpool()
        let oldDue = FileSystem.now() + 12 * Self.setUpMargin
        try spool.submit("early.call", Self.answered(), due: oldDue)
        try await withSpoold(spool: spool) { spoold in
            try FileSystem.setMtime(spool.outgoingPath("early.call"), to: FileSystem.now() - 1)
            let file = try await spool.waitForArchive("early.call", by: spoold, timeout: .seconds(20))
            #expect(file.status == "Completed")
            #expect(try #require(Self.firstReadTime(file)) < Int(oldDue), "it ran at its old time, not earlier")
        }
    }

    @Test("A waiting file touched to a later time is not read at its old time")
    func touchedLaterWaits() async throws {
        let spool = try TemporarySpool()
        // Margins leave a loaded CI machine time to start spoold before the old due time passes.
        let oldDue = FileSystem.now() + Self.setUpMargin
        try spool.submit("late.call", Self.answered(), due: oldDue)
        try await withSpoold(spool: spool) { spoold in
            let newDue = oldDue + 3
            try FileSystem.setMtime(spool.outgoingPath("late.call"), to: newDue)
            let file = try await spool.waitForArchive("late.call", by: spoold)
            #expect(try #require(Self.firstReadTime(file)) >= Int(newDue), "read at its old due time")
        }
    }

    @Test("A waiting file replaced by rename runs once, at the new file's time, with the new contents")
    func replacedByRename() async throws {
        let spool = try TemporarySpool()
        let oldDue = FileSystem.now() + Self.setUpMargin
        try spool.submit("swap.call", Self.answered(data: "first"), due: oldDue)
        try await withSpoold(spool: spool) { spoold in
            let newDue = oldDue + 3
            let replacement = Self.answered(data: "second")
            try spool.submit("swap.call", replacement, due: newDue)
            let file = try await spool.waitForArchive("swap.call", by: spoold)
            #expect(file.appended(after: replacement) != nil, "archived:\n\(file.text)")
            #expect(file.tags == ["StartRetry"])
            #expect(try #require(Self.firstReadTime(file)) >= Int(newDue), "the old schedule fired")
        }
    }

    @Test("A deleted waiting file is forgotten: its old schedule never fires a new file of the same name")
    func deletedIsForgotten() async throws {
        let spool = try TemporarySpool()
        let oldDue = FileSystem.now() + Self.setUpMargin
        try spool.submit("reuse.call", Self.answered(data: "old"), due: oldDue)
        try spool.submit("gone.call", Self.answered(data: "gone"), due: oldDue)
        try await withSpoold(spool: spool) { spoold in
            try FileManager.default.removeItem(atPath: spool.outgoingPath("gone.call"))
            try FileManager.default.removeItem(atPath: spool.outgoingPath("reuse.call"))
            // Written with a due time well after the deleted file's, which must not run it early.
            let newDue = oldDue + 3
            let fresh = Self.answered(data: "new")
            try spool.submit("reuse.call", fresh, due: newDue)
            let file = try await spool.waitForArchive("reuse.call", by: spoold)
            #expect(file.appended(after: fresh) != nil)
            #expect(file.tags == ["StartRetry"])
            #expect(try #require(Self.firstReadTime(file)) >= Int(newDue), "the deleted file's schedule fired")
            // By now the deleted gone.call was long due: it left no trace and spoold kept running.
            #expect(spool.doneNames() == ["reuse.call"])
            #expect(spoold.isRunning)
        }
    }
}
