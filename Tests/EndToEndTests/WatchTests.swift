import Foundation
import Testing
import TestSupport

/// Contract §2.5: the watch survives a deleted and re-created `outgoing` and an inotify queue overflow.
@Suite("The directory watch survives")
struct WatchTests {
    static let answered = callFile(["Channel": "Sim/answer", "Application": "Playback", "Data": "x", "Archive": "yes"])

    @Test("outgoing deleted and re-created: new files are still seen")
    func outgoingRecreated() async throws {
        let spool = try TemporarySpool()
        try await withSpoold(spool: spool) { spoold in
            try spool.submit("before.call", Self.answered)
            _ = try await spool.waitForArchive("before.call", by: spoold)

            try FileManager.default.removeItem(atPath: spool.outgoing)
            try FileManager.default.createDirectory(atPath: spool.outgoing, withIntermediateDirectories: false)
            try spool.submit("after.call", Self.answered)
            let file = try await spool.waitForArchive("after.call", by: spoold, timeout: .seconds(30))
            #expect(file.status == "Completed")
        }
    }

    @Test("An inotify queue overflow leads to a rescan: every file is processed")
    func queueOverflow() async throws {
        let limit = Int((try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 16384
        let count = limit + 200
        let spool = try TemporarySpool()
        let text = callFile(["Channel": "Sim/answer", "Application": "Playback", "Data": "x"])
        try await withSpoold(spool: spool, arguments: ["--max-concurrent", "0", "--max-cps", "0"], logLevel: "info") { spoold in
            // A stopped process reads no events, so more renames than the queue holds overflow it for certain.
            spoold.signal(SIGSTOP)
            do {
                for index in 0..<count { try spool.submit("flood-\(index).call", text) }
            } catch {
                spoold.signal(SIGCONT)
                throw error
            }
            spoold.signal(SIGCONT)
            try await spoold.waitUntil("all \(count) files processed", timeout: .seconds(180), every: .milliseconds(250)) {
                spool.outgoingNames().isEmpty
            }
            #expect(spool.doneNames().isEmpty, "Archive is off: nothing should be archived")
        }
    }
}
