import Foundation
import NIOHTTP1
import Spooler
import Testing
@testable import SpoolObservability

@Suite("Metrics endpoint, status and listen addresses")
struct EndpointTests {
    static let t0 = SpoolInstant(seconds: 1_795_364_000)

    @Test func theEndpointServesMetricsAndStatusOnARealSocket() async throws {
        let metrics = SpoolMetrics(started: Self.t0)
        metrics.record(.finished(file: "a.call", status: .completed, disposition: .deleted, summary: "x"))
        let board = StatusBoard(StatusSnapshot(pid: 4711, spoolDirectory: "/spool", backend: "simulate", startedAt: 1))
        board.record(.finished(file: "a.call", status: .completed, disposition: .deleted, summary: "x"))
        let server = try await MetricsHTTPServer.bind(ListenAddress(host: "127.0.0.1", port: 0), metrics: metrics, status: board)
        do {
            #expect(server.address.port != 0)
            let (status, body) = try await StatusRequest.request("/metrics", from: server.address)
            #expect(status == 200)
            #expect(PrometheusText(body)[#"spoold_finished_total{status="Completed"}"#] == 1)

            let snapshot = try await StatusRequest.fetch(from: server.address)
            #expect(snapshot.pid == 4711)
            #expect(snapshot.finished == ["Completed": 1])

            #expect(try await StatusRequest.request("/metrics?x=1", from: server.address).status == 200)
            #expect(try await StatusRequest.request("/", from: server.address).status == 404)
            #expect(try await StatusRequest.request("/secrets", from: server.address).status == 404)
            #expect(try await StatusRequest.request("/metrics", method: .POST, from: server.address).status == 405)
        } catch {
            try await server.close()
            throw error
        }
        try await server.close()
        await #expect(throws: StatusRequest.Failure.self) {
            _ = try await StatusRequest.fetch(from: server.address)
        }
    }

    @Test func aTakenPortFailsAtBind() async throws {
        let metrics = SpoolMetrics(started: Self.t0)
        let board = StatusBoard(StatusSnapshot(pid: 1, spoolDirectory: "/s", backend: "simulate", startedAt: 1))
        let first = try await MetricsHTTPServer.bind(ListenAddress(host: "127.0.0.1", port: 0), metrics: metrics, status: board)
        await #expect(throws: (any Error).self) {
            let second = try await MetricsHTTPServer.bind(first.address, metrics: metrics, status: board)
            try await second.close()
        }
        try await first.close()
    }

    @Test func listenAddressesAreLoopbackUnlessAllowed() throws {
        #expect(try ListenAddress.parse("127.0.0.1:9330") == ListenAddress(host: "127.0.0.1", port: 9330))
        #expect(try ListenAddress.parse("9330") == ListenAddress(host: "127.0.0.1", port: 9330))
        #expect(try ListenAddress.parse("[::1]:0") == ListenAddress(host: "::1", port: 0))
        #expect(try ListenAddress.parse("localhost:80").host == "localhost")
        #expect(try ListenAddress.parse("127.8.9.10:1").isLoopback)
        #expect(throws: ListenAddress.ParseError.notLoopback("0.0.0.0")) { try ListenAddress.parse("0.0.0.0:9330") }
        #expect(throws: ListenAddress.ParseError.notLoopback("192.168.1.5")) { try ListenAddress.parse("192.168.1.5:9330") }
        #expect(try ListenAddress.parse("0.0.0.0:9330", allowRemote: true).host == "0.0.0.0")
        #expect(throws: ListenAddress.ParseError.badPort("127.0.0.1:70000")) { try ListenAddress.parse("127.0.0.1:70000") }
        #expect(throws: ListenAddress.ParseError.badPort("127.0.0.1:")) { try ListenAddress.parse("127.0.0.1:") }
        #expect(throws: ListenAddress.ParseError.malformed("pbx.example.com:9330")) { try ListenAddress.parse("pbx.example.com:9330") }
        #expect(throws: ListenAddress.ParseError.malformed("::1:9330")) { try ListenAddress.parse("::1:9330") }
        #expect(throws: ListenAddress.ParseError.malformed("256.1.1.1:1")) { try ListenAddress.parse("256.1.1.1:1") }
        #expect(ListenAddress(host: "::1", port: 5).description == "[::1]:5")
    }

    @Test func theProbeFindsTheLockHolderInProcLocks() {
        let table = """
            1: FLOCK  ADVISORY  WRITE 30070 fe:00:16490484 0 EOF
            2: POSIX  ADVISORY  WRITE 22437 fe:00:777 0 EOF
            3: -> FLOCK  ADVISORY  WRITE 27931 fe:00:777 0 EOF
            4: FLOCK  ADVISORY  WRITE 26845 103:02:777 0 EOF
            """
        #expect(DaemonProbe.holder(in: table, major: 0xfe, minor: 0, inode: 16_490_484) == 30070)
        #expect(DaemonProbe.holder(in: table, major: 0x103, minor: 2, inode: 777) == 26845)
        #expect(DaemonProbe.holder(in: table, major: 0xfe, minor: 0, inode: 777) == nil, "a POSIX lock or a waiter is no holder")
    }

    @Test func theProbeSeesAHeldLockAndAFreeOne() throws {
        let directory = try TemporaryDirectory()
        #expect(try DaemonProbe.probe(spoolDirectory: directory.path) == .noLockFile)
        do {
            let lock = try SpoolLock(spoolDirectory: directory.path)
            #expect(try DaemonProbe.probe(spoolDirectory: directory.path) == .running(pid: Int(getpid())))
            withExtendedLifetime(lock) {}
        }
        #expect(try DaemonProbe.probe(spoolDirectory: directory.path) == .notHeld)
    }

    @Test func theStatusFileRoundTrips() throws {
        let directory = try TemporaryDirectory()
        let file = StatusFile(spoolDirectory: directory.path)
        let snapshot = StatusSnapshot(pid: 7, spoolDirectory: directory.path, backend: "ami", startedAt: 100, queued: 1,
                                      scheduled: 2, nextDue: 200.5, inFlight: 3, backendReady: true,
                                      servers: [ServerConnection(name: "127.0.0.1:5038", connected: true)],
                                      finished: ["Completed": 4], attempts: 5, metricsAddress: "127.0.0.1:9330")
        try file.write(snapshot)
        #expect(try file.read() == snapshot)
        let text = try #require(directory.read(".spoold.status"))
        #expect(text.contains("\"in_flight\":3"))
        #expect(text.contains("\"spool_dir\""))
        file.remove()
        #expect(throws: (any Error).self) { try file.read() }
    }

    @Test("Files held by a calling window: a line of the summary, a key of the JSON; none without windows")
    func heldFiles() throws {
        var snapshot = StatusSnapshot(pid: 7, spoolDirectory: "/s", backend: "simulate", startedAt: 1000, scheduled: 3, held: 2)
        #expect(snapshot.summary(now: 1000).contains("  scheduled:  3\n  held:       2 by a calling window, until it opens\n  in flight:  0\n"))
        let json = String(decoding: try JSONEncoder().encode(snapshot), as: UTF8.self)
        #expect(json.contains("\"held\":2"))
        snapshot.held = 0
        #expect(!snapshot.summary(now: 1000).contains("held"))
    }

    @Test func theSummaryIsShortAndHuman() {
        let snapshot = StatusSnapshot(pid: 7, spoolDirectory: "/var/spool/asterisk", backend: "ami", startedAt: 1000,
                                      queued: 2, scheduled: 3, nextDue: 1_795_364_000, inFlight: 4, backendReady: true,
                                      servers: [ServerConnection(name: "127.0.0.1:5038", connected: true),
                                                ServerConnection(name: "10.0.0.2:5038", connected: false)],
                                      finished: ["Completed": 10, "Expired": 2], attempts: 15, metricsAddress: "127.0.0.1:9330")
        let text = snapshot.summary(now: 1_795_364_000 - 754)
        #expect(text == """
            spoold pid 7 on /var/spool/asterisk (backend ami), up 20779d 15h 44m 06s
              queued:     2 due now (waiting for a free slot or the rate limit)
              scheduled:  3, next due 2026-11-22T16:13:20.000Z (in 12m 34s)
              in flight:  4
              server 127.0.0.1:5038: connected
              server 10.0.0.2:5038: disconnected
              finished:   12 (10 Completed, 2 Expired, 0 Failed) after 15 attempts
              metrics:    http://127.0.0.1:9330/metrics

            """)
    }
}
