import AMI
import AMITestServer
import Logging
import TestSupport
import Testing

/// `AMIHTTPClient` against the HTTP variant of the test server: cookie and digest logins, WaitEvent
/// delivering OriginateResponse and Hangup, and an expired session.
@Suite("AMI over HTTP: client and test server")
struct AMIHTTPClientTests {
    static func startServer() async throws -> AMIHTTPTestServer {
        try await AMIHTTPTestServer.start(configuration: AMITestServerConfiguration(secret: "http-secret"))
    }

    static func configuration(_ server: AMIHTTPTestServer, digest: Bool, secret: String = "http-secret") -> AMIConfiguration {
        var configuration = AMIConfiguration(host: "127.0.0.1", port: server.port, username: "spoold", secret: AMISecret(secret))
        configuration.transport = .http(AMIConfiguration.HTTP(waitEventTimeout: .seconds(5)))
        configuration.useMD5 = digest
        // Deadlines only (stretched on slow, sanitized builds); the long poll's length is left as it is.
        configuration.responseTimeout = Duration.seconds(10).scaledDeadline
        configuration.connectTimeout = configuration.connectTimeout.scaledDeadline
        configuration.pingTimeout = configuration.pingTimeout.scaledDeadline
        configuration.reconnectInitialDelay = .milliseconds(10)
        configuration.reconnectMaxDelay = .milliseconds(100)
        configuration.originateResponseMargin = Duration.seconds(10).scaledDeadline
        return configuration
    }

    static func withClient(_ server: AMIHTTPTestServer, digest: Bool, _ body: (any AMIConnection) async throws -> Void) async throws {
        let client = makeAMIConnection(configuration: configuration(server, digest: digest), logger: Logger(label: "ami-http-test"))
        #expect(client is AMIHTTPClient)
        let run = Task { try await client.run() }
        do {
            try await client.waitUntilConnected()
            try await body(client)
        } catch {
            run.cancel()
            _ = try? await run.value
            try? await server.stop()
            throw error
        }
        run.cancel()
        try await run.value
        #expect(!client.isConnected)
        try await server.stop()
    }

    static func request(_ channel: String, id: String) -> OriginateRequest {
        OriginateRequest(channel: channel, application: "Playback", data: "hello world&more", timeout: .seconds(5),
                         variables: [AMIVariable(name: "A", value: "1,2")], channelId: id)
    }

    @Test("Cookie login; WaitEvent delivers the OriginateResponse and the Hangup", arguments: [false, true])
    func answeredCall(digest: Bool) async throws {
        let server = try await Self.startServer()
        try await Self.withClient(server, digest: digest) { client in
            var stages: [OriginateStage] = []
            for await stage in client.originate(Self.request("PJSIP/answer/20/20", id: "http-answer-\(digest)")) { stages.append(stage) }
            try #require(stages.count == 3, "\(stages)")
            #expect(stages[0] == .queued)
            #expect(stages[1] == .answered(channel: "PJSIP/answer/20/20-00000001", uniqueid: "http-answer-\(digest)"))
            #expect(stages[2] == .hungUp(cause: 16, causeText: "Normal Clearing"))
            #expect(server.logins == 1)
            let sent = try #require(server.originates.first)
            #expect(server.originates.count == 1)
            // The parameters arrive exactly as they would as TCP headers.
            #expect(sent.headers.first { $0.name == "Data" }?.value == "hello world&more")
            #expect(sent.headers.filter { $0.name == "Variable" }.map(\.value) == ["A=1,2"])
        }
    }

    @Test("Busy over digest: failed with reason 5", arguments: [false, true])
    func busyCall(digest: Bool) async throws {
        let server = try await Self.startServer()
        try await Self.withClient(server, digest: digest) { client in
            var stages: [OriginateStage] = []
            for await stage in client.originate(Self.request("PJSIP/busy", id: "http-busy")) { stages.append(stage) }
            #expect(stages == [.queued, .failed(reason: 5, channel: "PJSIP/busy")])
        }
    }

    @Test("A wrong secret fails the login (cookie and digest)", arguments: [false, true])
    func wrongSecret(digest: Bool) async throws {
        let server = try await Self.startServer()
        let client = AMIHTTPClient(configuration: Self.configuration(server, digest: digest, secret: "wrong"), logger: Logger(label: "t"))
        await #expect(throws: AMIConnectionError.self) { try await client.runOnce() }
        #expect(server.logins == 0)
        try await server.stop()
    }

    @Test("An expired session: logged in again, the call reported as after a drop, never a second Originate",
          arguments: [false, true])
    func expiredSession(digest: Bool) async throws {
        let server = try await Self.startServer()
        try await Self.withClient(server, digest: digest) { client in
            let id = "http-expiry-\(digest)"
            var stages: [OriginateStage] = []
            for await stage in client.originate(Self.request("PJSIP/answer/0/600000", id: id)) {
                stages.append(stage)
                if case .answered = stage { await server.expireSessions() }
            }
            #expect(stages.count == 3, "\(stages)")
            #expect(stages.last == .connectionLost(afterAnswer: true))
            try await client.waitUntilConnected()
            let deadline = ContinuousClock.now + Duration.seconds(30).scaledDeadline
            while server.logins < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(server.logins == 2)
            // The engine's next step after a drop: the call is still up, found by its ChannelId.
            #expect(try await client.channelExists(id))
            #expect(try await client.channelExists("no-such-id") == false)
            #expect(server.originates.count == 1, "the Originate must never be re-sent")
        }
    }

    @Test("A session keeps its connections: 100 actions share one, beside the WaitEvent long poll's",
          arguments: [false, true])
    func actionsReuseTheirConnection(digest: Bool) async throws {
        let server = try await Self.startServer()
        try await Self.withClient(server, digest: digest) { client in
            let before = server.requestsAnswered
            for index in 0..<100 {
                let exists = try await client.channelExists("no-such-channel-\(index)")
                #expect(!exists)
            }
            #expect(server.requestsAnswered - before >= 100)
            // One connection carries the login and then the long poll, the other the 100 actions; a new
            // connection per action would make it 101 or more.
            #expect(server.connectionsAccepted <= 2, "\(server.connectionsAccepted) connections for \(server.requestsAnswered) requests")
        }
    }

    @Test("Not logged in: an Originate is not sent")
    func notConnected() async throws {
        let server = try await Self.startServer()
        let client = AMIHTTPClient(configuration: Self.configuration(server, digest: false), logger: Logger(label: "t"))
        var stages: [OriginateStage] = []
        for await stage in client.originate(Self.request("PJSIP/answer", id: "x")) { stages.append(stage) }
        #expect(stages == [.notSent("not connected to AMI")])
        #expect(server.originates.isEmpty)
        try await server.stop()
    }
}
