import AMI
import AMITestServer
import CallFile
import Logging
import TestSupport
import EngineTestSupport
import Testing
@testable import Spooler
@testable import SpoolerAMI

/// A pool of two servers, one reached over the manager port and one over Asterisk's HTTP server: the
/// engine dials through both alike.
@Suite("AMI server pool with a TCP and an HTTP server")
struct MixedTransportPoolTests {
    static func configuration(port: Int, http: Bool) -> AMIConfiguration {
        var configuration = AMIConfiguration(host: "127.0.0.1", port: port, username: "spoold", secret: AMISecret("secret"))
        if http { configuration.transport = .http(AMIConfiguration.HTTP(waitEventTimeout: .seconds(2))) }
        configuration.responseTimeout = Duration.seconds(5).scaledDeadline
        configuration.reconnectInitialDelay = .milliseconds(10)
        configuration.reconnectMaxDelay = .milliseconds(100)
        return configuration
    }

    @Test("Spread over a TCP and an HTTP server: each places its share, every call completes, both report their state")
    func spreadOverBothTransports() async throws {
        let tcp = try await AMITestServer.start()
        let http = try await AMIHTTPTestServer.start()
        let clock = ManualSpoolClock(now: EngineHarness.t0)
        let pool = try AMIServerPool(
            servers: [
                AMIServer(name: "pbx-tcp", configuration: Self.configuration(port: tcp.port, http: false)),
                AMIServer(name: "pbx-http", configuration: Self.configuration(port: http.port, http: true)),
            ],
            selection: .spread, clock: clock, logger: Logger(label: "pool") { _ in SwiftLogNoOpLogHandler() },
            pollInterval: .milliseconds(50))
        #expect(pool.clients[0] is AMIClient)
        #expect(pool.clients[1] is AMIHTTPClient)
        let harness = try EngineHarness(clock: clock, backend: pool)
        let services = pool.services
        let running = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for service in services { group.addTask { try await service.run() } }
                try await group.waitForAll()
            }
        }
        do {
            // Both log in, each over its own transport (a TCP client would never log in to the HTTP server).
            let deadline = ContinuousClock.now + Duration.seconds(20).scaledDeadline
            while pool.status().map(\.connected) != [true, true] {
                guard ContinuousClock.now < deadline else {
                    Issue.record("not both servers logged in within 20 s: \(pool.status())")
                    throw CancellationError()
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            try await harness.start()
            let names = (1...4).map { "mixed-\($0).call" }
            for name in names {
                try harness.submit(name, callText(["Channel": "Test/answer", "Application": "Wait", "Archive": "yes"]), announce: false)
            }
            harness.changed(.rescan(names, reason: .initial))
            // They finish in whatever order the two servers answer.
            var statuses: [String: CallStatus] = [:]
            while statuses.count < names.count {
                let event = try await harness.next("finish of \(names.count - statuses.count) more files") {
                    if case .finished(let name, _, _, _) = $0 { names.contains(name) } else { false }
                }
                if case .finished(let name, let status, _, _) = event { statuses[name] = status }
            }
            #expect(statuses.values.allSatisfy { $0 == .completed }, "\(statuses)")
            let expected = names.map { ChannelID.make(fileName: $0, startEpoch: EngineHarness.t0.seconds + 300, attempt: 1) }
            let placed = (tcp.originates + http.originates).compactMap(\.channelId)
            #expect(Set(placed) == Set(expected))
            #expect(tcp.originates.count == 2 && http.originates.count == 2, "tcp \(tcp.originates.count), http \(http.originates.count)")
        } catch {
            await harness.stop()
            running.cancel()
            _ = await running.result
            try? await tcp.stop()
            try? await http.stop()
            throw error
        }
        await harness.stop()
        running.cancel()
        _ = await running.result
        try await tcp.stop()
        try await http.stop()
    }
}
