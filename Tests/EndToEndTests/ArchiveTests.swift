import Foundation
import Testing
import TestSupport

/// Contract §2.6 (atomic archive that loses nothing) and §2.9 (Status always on a line of its own).
@Suite("Archiving")
struct ArchiveTests {
    static let answered = callFile(["Channel": "Sim/answer", "Application": "Playback", "Data": "x", "Archive": "yes"])

    @Test("An older archive of the same name is kept under another name, not destroyed")
    func collisionKeepsTheOlderArchive() async throws {
        let spool = try TemporarySpool()
        try FileManager.default.createDirectory(atPath: spool.done, withIntermediateDirectories: true)
        let older = "Channel: Sim/answer\nApplication: Playback\nData: older\nArchive: yes\n\nStartRetry: 1 1 (1795364223)\nStatus: Completed\n"
        try FileSystem.write(Array(older.utf8), to: spool.donePath("same.call"))
        try await withSpoold(spool: spool) { spoold in
            try spool.submit("same.call", Self.answered)
            try await spoold.waitUntil("the new same.call archived") {
                spool.archived("same.call")?.appended(after: Self.answered) != nil
            }
            let others = spool.doneNames().filter { $0 != "same.call" }
            let keptCopies = others.filter { FileSystem.read(spool.donePath($0)) == Array(older.utf8) }
            #expect(keptCopies.count == 1, "outgoing_done holds \(spool.doneNames())")
            #expect(!keptCopies.contains { $0.hasPrefix(".") }, "the older archive is hidden as \(keptCopies)")
        }
    }

    @Test("Status is on a line of its own when the file did not end with a newline", arguments: [
        "Channel: Sim/answer\nApplication: Playback\nData: x\nArchive: yes",  // valid: Completed
        "Channel: Sim/answer\nWaitTime: 10\nArchive: yes",                   // invalid: Failed
    ])
    func statusOnItsOwnLine(text: String) async throws {
        let spool = try TemporarySpool()
        try await withSpoold(spool: spool) { spoold in
            try spool.submit("nolf.call", text)
            let file = try await spool.waitForArchive("nolf.call", by: spoold)
            #expect(file.text.hasPrefix(text + "\n"), "archived:\n\(file.text)")
            #expect(file.text.hasSuffix("\nStatus: \(file.status ?? "?")\n"))
            #expect(file.text.contains("Archive: yes\n"))
        }
    }

    @Test("A reader never sees outgoing_done/<name> without its Status line")
    func archiveAppearsComplete() async throws {
        let spool = try TemporarySpool()
        let names = (0..<200).map { "burst-\($0).call" }
        for name in names { try spool.submit(name, Self.answered) }
        // A separate thread reads every archived file as soon as it appears, as a log shipper would.
        let watcher = ArchiveReader(directory: spool.done)
        watcher.start()
        try await withSpoold(spool: spool) { spoold in
            try await spoold.waitUntil("all 200 files archived", timeout: .seconds(60)) {
                names.allSatisfy { spool.archived($0) != nil }
            }
        }
        let (reads, incomplete) = watcher.stop()
        #expect(reads > 0)
        #expect(incomplete.isEmpty, "read without Status: \(incomplete.prefix(5))")
    }

    @Test("When outgoing_done cannot be created the file stays in outgoing and the archive is retried")
    func blockedArchiveLosesNothing() async throws {
        let spool = try TemporarySpool()
        // A regular file where the directory should be: mkdir fails, so the archive step cannot complete.
        try FileSystem.write(Array("in the way\n".utf8), to: spool.done)
        try await withSpoold(spool: spool) { spoold in
            try spool.submit("blocked.call", Self.answered)
            try await spoold.waitUntil("an error naming outgoing_done") {
                spoold.log.contains("outgoing_done") && spool.recordsInOutgoing("blocked.call").count == 1
            }
            let kept = try await holdsThroughout(.seconds(2)) { spool.isInOutgoing("blocked.call") }
            #expect(kept, "the file left outgoing although it could not be archived")
            #expect(spool.recordsInOutgoing("blocked.call").map(\.tag) == ["StartRetry"], "dialled again")

            try FileManager.default.removeItem(atPath: spool.done)
            let file = try await spool.waitForArchive("blocked.call", by: spoold, timeout: .seconds(60))
            #expect(file.status == "Completed")
            #expect(file.tags == ["StartRetry"], "the call was dialled again: \(file.text)")
        }
    }
}

/// Reads every regular file in a directory in a tight loop on its own thread and notes any it saw without
/// a trailing Status line.
final class ArchiveReader: @unchecked Sendable {
    // @unchecked: the mutable state is only touched under `lock`.
    private let directory: String
    private let lock = NSLock()
    private var running = true
    private var reads = 0
    private var incomplete: [String] = []
    private var thread: Thread?

    init(directory: String) { self.directory = directory }

    func start() {
        let thread = Thread { [self] in
            while lock.withLock({ running }) {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
                where !name.hasPrefix(".") {
                    guard let bytes = FileSystem.read(directory + "/" + name) else { continue }
                    let text = String(decoding: bytes, as: UTF8.self)
                    let complete = text.range(of: "\nStatus: [A-Za-z]+\n$", options: .regularExpression) != nil
                    lock.withLock {
                        reads += 1
                        if !complete { incomplete.append(name) }
                    }
                }
            }
        }
        self.thread = thread
        thread.start()
    }

    func stop() -> (reads: Int, incomplete: [String]) {
        lock.withLock {
            running = false
            return (reads, incomplete)
        }
    }
}
