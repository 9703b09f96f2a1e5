import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Issue 6: the real spoold with --metrics-listen, --result-log and --on-finish, and `spoold status`.
@Suite("Metrics, status, result log and hook with the real spoold")
struct ObservabilityEndToEndTests {
    struct Status: Decodable {
        let pid: Int
        let queued: Int
        let scheduled: Int
        let next_due: Double?
        let in_flight: Int
        let finished: [String: Int]
        let attempts: Int
        let metrics_listen: String?
    }

    static func status(_ arguments: [String]) async throws -> ToolRun {
        try await ToolRun.run(BuiltProducts.spoold, ["status"] + arguments)
    }

    @Test("A busy call with retries: Expired, every attempt in the result log and the hook, counted, and shown by status")
    func busyCallEverywhere() async throws {
        let spool = try TemporarySpool()
        let resultLog = spool.root + "/results.jsonl"
        let hooks = spool.root + "/hooks"
        try FileManager.default.createDirectory(atPath: hooks, withIntermediateDirectories: false)
        let hook = #"env | grep '^SPOOLD_' > "\#(hooks)/$SPOOLD_FILE.tmp" && mv "\#(hooks)/$SPOOLD_FILE.tmp" "\#(hooks)/$SPOOLD_FILE.env""#
        let arguments = ["--metrics-listen", "127.0.0.1:0", "--result-log", resultLog, "--on-finish", hook]
        let later = FileSystem.now() + 3600
        let spooldPid = try await withSpoold(spool: spool, arguments: arguments) { spoold in
            try spool.submit("later.call", callFile(["Channel": "Sim/answer", "Application": "Playback", "Data": "x"]), due: later)
            try spool.submit("busy.call", callFile([
                "Channel": "Sim/busy", "MaxRetries": "2", "RetryTime": "1", "WaitTime": "5",
                "Context": "target", "Extension": "s", "Priority": "1", "Archive": "yes",
            ]))
            let archived = try await spool.waitForArchive("busy.call", by: spoold)
            #expect(archived.status == "Expired")

            // The result log: one line listing all three attempts.
            try await spoold.waitUntil("the result-log line for busy.call") {
                (FileSystem.read(resultLog).map { String(decoding: $0, as: UTF8.self) } ?? "").contains("busy.call")
            }
            let lines = String(decoding: FileSystem.read(resultLog) ?? [], as: UTF8.self).split(separator: "\n")
            #expect(lines.count == 1)
            let line = try JSONDecoder().decode(ResultLine.self, from: Data(lines[0].utf8))
            #expect(line.file == "busy.call" && line.status == "Expired")
            #expect(line.disposition == "archived" && line.archive == "busy.call")
            #expect(line.channel == "Sim/busy")
            #expect(line.attempts.map(\.attempt) == [1, 2, 3])
            #expect(line.attempts.allSatisfy { $0.result == "failed" && $0.reason == 5 && $0.reason_text == "Remote end is Busy" })
            #expect(line.attempts.allSatisfy { $0.start <= $0.end })
            #expect(zip(line.attempts, line.attempts.dropFirst()).allSatisfy { $0.end <= $1.start }, "attempts in order")
            // The Uniqueid is the ChannelId spoold sent: it carries the StartRetry epoch and the attempt number.
            let starts = archived.records("StartRetry")
            #expect(starts.count == 3)
            for (attempt, start) in zip(line.attempts, starts) {
                #expect(attempt.uniqueid.hasPrefix("spoold-") && attempt.uniqueid.hasSuffix("-\(start.epoch)-\(start.number)"),
                        "\(attempt.uniqueid) vs \(start)")
            }

            // The hook: the same result in its environment.
            let envPath = hooks + "/busy.call.env"
            try await spoold.waitUntil("the on_finish hook for busy.call") { FileSystem.exists(envPath) }
            let env = Dictionary(String(decoding: FileSystem.read(envPath) ?? [], as: UTF8.self).split(separator: "\n").compactMap { line in
                line.firstIndex(of: "=").map { (String(line[..<$0]), String(line[line.index(after: $0)...])) }
            }, uniquingKeysWith: { first, _ in first })
            #expect(env["SPOOLD_FILE"] == "busy.call")
            #expect(env["SPOOLD_STATUS"] == "Expired")
            #expect(env["SPOOLD_CHANNEL"] == "Sim/busy")
            #expect(env["SPOOLD_ATTEMPTS"] == "3")
            #expect(env["SPOOLD_ARCHIVE"] == spool.donePath("busy.call"))
            let hookJSON = try JSONDecoder().decode(ResultLine.self, from: Data((env["SPOOLD_RESULT_JSON"] ?? "").utf8))
            #expect(hookJSON.attempts.count == 3)

            // spoold status from the spool: the figures settle within a sample or two.
            var status: Status?
            try await waitUntilAsync("spoold status to show busy.call finished and later.call scheduled") {
                let run = try await Self.status(["--spool-dir", spool.root, "--json"])
                guard run.status == 0 else { return false }
                status = try JSONDecoder().decode(Status.self, from: Data(run.stdout.utf8))
                return status?.finished["Expired"] == 1 && status?.scheduled == 1
            }
            let figures = try #require(status)
            #expect(figures.pid == Int(spoold.pid))
            #expect(figures.queued == 0 && figures.in_flight == 0)
            #expect(figures.attempts == 3)
            #expect(figures.next_due.map { abs($0 - later) < 1 } == true)
            let address = try #require(figures.metrics_listen)

            let human = try await Self.status(["--spool-dir", spool.root])
            #expect(human.status == 0, "\(human)")
            #expect(human.stdout.contains("spoold pid \(spoold.pid) on \(spool.root) (backend simulate)"), "\(human)")
            #expect(human.stdout.contains("scheduled:  1, next due "), "\(human)")
            #expect(human.stdout.contains("finished:   1 (0 Completed, 1 Expired, 0 Failed) after 3 attempts"), "\(human)")

            let remote = try await Self.status(["--metrics-listen", address])
            #expect(remote.status == 0, "\(remote)")
            #expect(remote.stdout.contains("spoold pid \(spoold.pid) on \(spool.root)"), "\(remote)")

            // The metrics endpoint over a real socket.
            let (host, port) = try #require(Self.split(address))
            let metrics = try Self.httpGet(host: host, port: port, path: "/metrics")
            #expect(metrics.hasPrefix("HTTP/1.1 200"), "\(metrics.prefix(200))")
            #expect(metrics.contains("\nspoold_finished_total{status=\"Expired\"} 1\n"), "\(metrics)")
            #expect(metrics.contains("\nspoold_attempts_total{result=\"failed\",reason=\"5\"} 3\n"), "\(metrics)")
            #expect(metrics.contains("\nspoold_queue_scheduled_files 1.0\n"), "\(metrics)")
            #expect(metrics.contains("\nspoold_dial_latency_seconds_count 3\n"), "\(metrics)")
            #expect(!metrics.contains("busy.call"), "no file names in metrics")
            #expect(try Self.httpGet(host: host, port: port, path: "/other").hasPrefix("HTTP/1.1 404"))
            return spoold.pid
        }

        // Stopped: status says so, and exits 1.
        let after = try await Self.status(["--spool-dir", spool.root])
        #expect(after.status == 1, "\(after)")
        #expect(after.stderr.contains("no spoold runs on \(spool.root)"), "\(after)")
        #expect(spooldPid > 0)
    }

    @Test func statusWithoutADaemonExits1WithAClearMessage() async throws {
        let spool = try TemporarySpool()
        let missing = try await Self.status(["--spool-dir", spool.root])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no spoold runs on \(spool.root) (there is no \(spool.root)/.spoold.lock)"), "\(missing)")

        // A lock file a crashed spoold left behind is not a running daemon.
        try FileSystem.write(Array("12345\n".utf8), to: spool.root + "/.spoold.lock")
        let stale = try await Self.status(["--spool-dir", spool.root])
        #expect(stale.status == 1)
        #expect(stale.stderr.contains("nothing holds"), "\(stale)")

        let closed = try await Self.status(["--metrics-listen", "127.0.0.1:1"])
        #expect(closed.status == 1)
        #expect(closed.stderr.contains("no spoold answers on 127.0.0.1:1"), "\(closed)")
    }

    @Test func aNonLoopbackMetricsAddressIsRefusedUnlessAllowed() async throws {
        let spool = try TemporarySpool()
        let run = try await ToolRun.run(BuiltProducts.spoold, [
            "run", "--spool-dir", spool.root, "--backend", "simulate", "--metrics-listen", "0.0.0.0:0",
        ])
        #expect(run.status != 0)
        #expect(run.stderr.contains("0.0.0.0 is not a loopback address"), "\(run)")
    }

    static func split(_ address: String) -> (String, Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else { return nil }
        return (String(address[..<colon]), port)
    }

    /// A plain HTTP/1.1 GET on a blocking IPv4 socket: the whole response, headers included.
    static func httpGet(host: String, port: Int, path: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FileSystem.Failure(call: "socket", path: host, code: errno) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: Int(20 * TestTimeScale.factor), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw FileSystem.Failure(call: "connect", path: "\(host):\(port)", code: errno) }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            response += chunk[..<count]
        }
        return String(decoding: response, as: UTF8.self)
    }
}
