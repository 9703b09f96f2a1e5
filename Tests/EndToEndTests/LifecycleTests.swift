import Foundation
import Testing
import TestSupport

/// The `spoold run` contract: ready line, outgoing created, the lock (§5), SIGTERM, dotfiles (§2.10).
@Suite("spoold run lifecycle")
struct LifecycleTests {
    @Test("Creates outgoing when missing, prints 'spoold ready', exits 0 on SIGTERM")
    func startsAndStops() async throws {
        let spool = try TemporarySpool(createOutgoing: false)
        let spoold = try await SpooldProcess.started(spool: spool)
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: spool.outgoing, isDirectory: &isDirectory) && isDirectory.boolValue)
        #expect(!FileSystem.exists(spool.done), "outgoing_done is created on the first archive only")
        #expect(try await spoold.terminate() == 0, "\(spoold.tail)")
    }

    @Test("'spoold ready' is printed at every log level, and other notices are still filtered (E2E-3)")
    func readyLineAtEveryLevel() async throws {
        for level in ["warning", "error"] {
            let spool = try TemporarySpool()
            try spool.submit("early.call", callFile(["Channel": "Sim/answer", "Application": "Playback", "Data": "x", "Archive": "yes"]))
            let spoold = try await SpooldProcess.started(spool: spool, logLevel: level)
            _ = try await spool.waitForArchive("early.call", by: spoold)
            #expect(try await spoold.terminate() == 0, "\(spoold.tail)")
            let lines = spoold.logLines
            #expect(lines.filter { $0.contains("spoold ready") }.count == 1, "\(spoold.tail)")
            #expect(!lines.contains { $0.contains("finished:") }, "notices stay filtered at \(level): \(spoold.tail)")
        }
    }

    @Test("A second spoold on the same spool exits 1 naming the holder's pid and host; the lock is free after the first stops")
    func secondInstanceRefused() async throws {
        let spool = try TemporarySpool()
        let first = try await SpooldProcess.started(spool: spool)
        let second = try await ToolRun.run(BuiltProducts.spoold, ["run", "--spool-dir", spool.root, "--backend", "simulate"])
        #expect(second.status == 1, "\(second)")
        #expect(second.stderr.contains("another spoold (pid \(first.pid) on \(thisHostName())) holds \(spool.root)/.spoold.lock"), "\(second)")
        #expect(first.isRunning)

        // The refused instance must not have disturbed the first one's work.
        try spool.submit("after.call", callFile(["Channel": "Sim/answer", "Application": "Playback", "Data": "x", "Archive": "yes"]))
        _ = try await spool.waitForArchive("after.call", by: first)
        #expect(try await first.terminate() == 0)

        let third = try await SpooldProcess.started(spool: spool)
        #expect(try await third.terminate() == 0)
    }

    @Test("A crashed spoold's stale lock does not stop the next one")
    func staleLockAfterKill() async throws {
        let spool = try TemporarySpool()
        let first = try await SpooldProcess.started(spool: spool)
        first.kill()
        let second = try await SpooldProcess.started(spool: spool)
        #expect(try await second.terminate() == 0)
    }

    @Test("The sockets' event loop is the main thread: the control socket answers, and no NIO loop thread is started")
    func socketsOnTheMainThread() async throws {
        let spool = try TemporarySpool()
        let spoold = try await SpooldProcess.started(spool: spool)
        let queue = try await ToolRun.run(BuiltProducts.spoold, ["queue", "--spool-dir", spool.root])
        #expect(queue.status == 0, "\(queue)")
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(spoold.pid)/task")
        let names = tasks.compactMap { try? String(contentsOfFile: "/proc/\(spoold.pid)/task/\($0)/comm", encoding: .utf8) }
        #expect(!names.isEmpty)
        #expect(!names.contains { $0.hasPrefix("NIO-") }, "a thread of NIO's own group: \(names)")
        // Idle, the main thread waits in epoll_wait (x86-64: 232, epoll_pwait 281), not in libdispatch's
        // sigsuspend (130); waited for, as it may still be closing the control connection.
        var syscall = ""
        try await waitUntil("the main thread waiting in epoll", timeout: .seconds(5), details: { syscall }) {
            syscall = try String(contentsOfFile: "/proc/\(spoold.pid)/task/\(spoold.pid)/syscall", encoding: .utf8)
            return ["232", "281"].contains(syscall.split(separator: " ").first.map(String.init) ?? "")
        }
        #expect(try await spoold.terminate() == 0, "\(spoold.tail)")
    }

    @Test("Names starting with '.' are never read, moved or deleted")
    func dotfilesIgnored() async throws {
        let spool = try TemporarySpool()
        let staged = callFile(["Channel": "Sim/answer", "Application": "Playback", "Data": "x", "Archive": "yes"])
        // A writer staging inside outgoing: present at start-up, and written while spoold runs.
        try spool.submit(".early.call", staged)
        try await withSpoold(spool: spool) { spoold in
            try spool.submit(".staging.call", staged)
            try FileSystem.write(Array(staged.utf8), to: spool.outgoingPath(".written-in-place"))
            try spool.submit("real.call", staged)
            _ = try await spool.waitForArchive("real.call", by: spoold)
            let untouched = try await holdsThroughout(.seconds(2)) {
                [".early.call", ".staging.call", ".written-in-place"].allSatisfy {
                    spool.text(inOutgoing: $0) == staged
                }
            }
            #expect(untouched, "outgoing: \(spool.outgoingNames())")
            #expect(spool.doneNames() == ["real.call"])
        }
    }
}
