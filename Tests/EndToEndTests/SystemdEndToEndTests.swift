import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// spoold under a service manager: the sd_notify datagrams it sends to `$NOTIFY_SOCKET` (a socket of
/// the test standing in for systemd), SIGHUP, and the journald/JSON log formats.
@Suite("spoold under systemd")
struct SystemdEndToEndTests {
    /// Runs spoold through `env`, which execs it: spoold keeps the pid, so WATCHDOG_PID can name it.
    func environment(_ values: [String]) -> [String] { ["/usr/bin/env"] + values }

    @Test("READY=1 after the ready line, WATCHDOG=1 with a STATUS while running, STOPPING=1 on SIGTERM, exit 0")
    func readyWatchdogStopping() async throws {
        let spool = try TemporarySpool()
        let systemd = try DatagramReceiver()
        try spool.submit("later.call", callFile(["Channel": "Sim/answer", "Application": "Playback", "Data": "x"]),
                         due: Date().timeIntervalSince1970 + 3600)
        let spoold = try SpooldProcess(
            spool: spool, wrapper: environment(["NOTIFY_SOCKET=\(systemd.address)", "WATCHDOG_USEC=400000"]))
        let ready = try await systemd.next("READY=1") { $0.contains("READY=1") }
        #expect(spoold.log.contains("spoold ready"), "READY=1 must follow the ready line\n\(spoold.tail)")
        #expect(ready == "READY=1\nSTATUS=ready: 1 scheduled, 0 in flight")

        let pet = try await systemd.next("WATCHDOG=1") { $0.contains("WATCHDOG=1") }
        #expect(pet == "WATCHDOG=1\nSTATUS=1 scheduled, 0 in flight")

        #expect(try await spoold.terminate() == 0, "\(spoold.tail)")
        let stopping = try await systemd.next("STOPPING=1") { $0.contains("STOPPING=1") }
        #expect(stopping.hasPrefix("STOPPING=1\nSTATUS=stopping"))
        #expect(systemd.received.filter { $0.contains("READY=1") }.count == 1, "\(systemd.received)")
    }

    @Test("No WATCHDOG_USEC: READY and STOPPING only, never WATCHDOG=1")
    func noWatchdog() async throws {
        let spool = try TemporarySpool()
        let systemd = try DatagramReceiver()
        let spoold = try SpooldProcess(spool: spool, wrapper: environment(["NOTIFY_SOCKET=\(systemd.address)"]))
        _ = try await systemd.next("READY=1") { $0.contains("READY=1") }
        #expect(try await spoold.terminate() == 0, "\(spoold.tail)")
        _ = try await systemd.next("STOPPING=1") { $0.contains("STOPPING=1") }
        #expect(!systemd.received.contains { $0.contains("WATCHDOG=1") }, "\(systemd.received)")
    }

    @Test("SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1 again; spoold keeps running and placing calls")
    func reload() async throws {
        let spool = try TemporarySpool()
        let systemd = try DatagramReceiver(abstract: true)
        let spoold = try SpooldProcess(spool: spool, wrapper: environment(["NOTIFY_SOCKET=\(systemd.address)"]))
        _ = try await systemd.next("READY=1") { $0.contains("READY=1") }
        spoold.signal(SIGHUP)
        let reloading = try await systemd.next("RELOADING=1") { $0.contains("RELOADING=1") }
        #expect(reloading.split(separator: "\n").contains { $0.hasPrefix("MONOTONIC_USEC=") && UInt64($0.dropFirst(15)) != nil })
        let readyAgain = try await systemd.next("READY=1 after the reload") { $0.contains("READY=1") }
        #expect(readyAgain.contains("STATUS=reloaded"))
        #expect(spoold.isRunning)
        try spool.submit("after-reload.call", callFile(["Channel": "Sim/answer", "Application": "Playback", "Data": "x", "Archive": "yes"]))
        #expect(try await spool.waitForArchive("after-reload.call", by: spoold).status == "Completed")
        #expect(try await spoold.terminate() == 0, "\(spoold.tail)")
    }

    @Test("--log-format json: every line is one JSON object with time, level, message, metadata")
    func jsonLogs() async throws {
        let spool = try TemporarySpool()
        let logPath = try await withSpoold(spool: spool, arguments: ["--log-format", "json"]) { spoold in
            try spool.submit("a.call", callFile(["Channel": "Sim/busy", "Application": "Playback", "Data": "x", "Archive": "yes"]))
            _ = try await spool.waitForArchive("a.call", by: spoold)
            return spoold.logPath
        }
        let lines = try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n")
        #expect(lines.count >= 3)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["time"] is String && object?["level"] is String && object?["message"] is String
                    && object?["metadata"] is [String: Any], "\(line)")
        }
        #expect(lines.contains { $0.contains(#""level":"notice","message":"spoold ready"#) })
    }

    @Test("Every format goes through the log writer, which is flushed at exit: the last line before exit is there",
          arguments: ["plain", "journald", "json"])
    func lastLineBeforeExit(format: String) async throws {
        let spool = try TemporarySpool()
        let spoold = try await SpooldProcess.started(spool: spool, arguments: ["--log-format", format])
        #expect(try await spoold.terminate() == 0, "\(spoold.tail)")
        // service-lifecycle's last word (debug), logged as the group ends, a moment before spoold exits:
        // only the flush at exit writes it.
        #expect(spoold.logLines.contains { $0.contains("Service lifecycle ended") }, "\(spoold.tail)")
    }

    @Test("Under systemd's journal stream (JOURNAL_STREAM = stderr's device:inode) lines carry <N> and no timestamp")
    func journaldDetected() async throws {
        let spool = try TemporarySpool()
        // The shell learns the device and inode of the stderr it hands to spoold, as systemd would set them.
        let wrapper = ["/bin/sh", "-c", #"JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$0" "$@""#]
        try await withSpoold(spool: spool, wrapper: wrapper) { spoold in
            #expect(spoold.logLines.contains { $0.hasPrefix("<5>spoold ready") }, "\(spoold.tail)")
            #expect(spoold.logLines.allSatisfy { $0.first == "<" && $0.dropFirst(2).first == ">" }, "\(spoold.tail)")
        }
    }

    @Test("A JOURNAL_STREAM that is not stderr (inherited from elsewhere) keeps the plain format")
    func journalStreamElsewhere() async throws {
        let spool = try TemporarySpool()
        try await withSpoold(spool: spool, wrapper: environment(["JOURNAL_STREAM=1:1"])) { spoold in
            let ready = try #require(spoold.logLines.first { $0.contains("spoold ready") })
            #expect(ready.first?.isNumber == true, "\(ready)")
        }
    }
}
