import AMI
import AMITestServer
import Logging
import NIOCore
import NIOPosix
import TestSupport
import Testing

/// The client against the test server over loopback.
@Suite struct ClientServerTests {
    static func startServer(_ change: (inout AMITestServerConfiguration) -> Void = { _ in }) async throws -> AMITestServer {
        var configuration = AMITestServerConfiguration(authenticationFailureDelay: .milliseconds(20))
        change(&configuration)
        return try await AMITestServer.start(configuration: configuration)
    }

    static func configuration(for server: AMITestServer, secret: String = "secret") -> AMIConfiguration {
        var configuration = AMIConfiguration(host: "127.0.0.1", port: server.port, username: "spoold", secret: AMISecret(secret))
        // Deadlines for answers from an in-process server: stretched on slow (sanitized) builds, where a
        // starved event loop would otherwise turn a late answer into a timeout no test is about.
        configuration.responseTimeout = Duration.seconds(5).scaledDeadline
        configuration.connectTimeout = configuration.connectTimeout.scaledDeadline
        configuration.pingTimeout = configuration.pingTimeout.scaledDeadline
        configuration.reconnectInitialDelay = .milliseconds(10)
        configuration.reconnectMaxDelay = .milliseconds(100)
        configuration.originateResponseMargin = Duration.seconds(5).scaledDeadline
        return configuration
    }

    /// Runs a reconnecting client for the body, then cancels it and expects a clean end.
    static func withClient(
        _ server: AMITestServer,
        configure: (inout AMIConfiguration) -> Void = { _ in },
        _ body: (AMIClient) async throws -> Void
    ) async throws {
        var configuration = configuration(for: server)
        configure(&configuration)
        let client = AMIClient(configuration: configuration, logger: Logger(label: "ami-test"))
        let run = Task { try await client.run() }
        do {
            try await client.waitUntilConnected()
            try await body(client)
        } catch {
            run.cancel()
            _ = try? await run.value
            throw error
        }
        run.cancel()
        try await run.value
        #expect(!client.isConnected)
    }

    static func stages(_ stream: AsyncStream<OriginateStage>) async -> [OriginateStage] {
        var stages: [OriginateStage] = []
        for await stage in stream { stages.append(stage) }
        return stages
    }

    static func request(_ channel: String, id: String, context: String = "target", timeout: Duration = .seconds(30)) -> OriginateRequest {
        OriginateRequest(channel: channel, context: context, exten: "s", priority: 1, timeout: timeout,
                         callerID: "\"AMI Test\" <1000>", variables: [AMIVariable(name: "MYVAR", value: "x")], channelId: id)
    }

    @Test func answeredCallUnfoldsToItsHangup() async throws {
        let server = try await Self.startServer()
        try await Self.withClient(server) { client in
            #expect(client.serverVersion == "11.0.0")
            let stages = await Self.stages(client.originate(Self.request("PJSIP/answer", id: "call-1")))
            #expect(stages.count == 3)
            #expect(stages.first == .queued)
            guard stages.count == 3, case .answered(let channel, let uniqueid) = stages[1] else {
                Issue.record("not answered: \(stages)")
                return
            }
            #expect(channel.hasPrefix("PJSIP/answer-"))
            #expect(uniqueid == "call-1", "with ChannelId set, the Uniqueid equals it")
            #expect(stages[2] == .hungUp(cause: 16, causeText: "Normal Clearing"))
        }
        let records = server.originates
        #expect(records.count == 1)
        #expect(records.first?.channelId == "call-1")
        #expect(records.first?.headers.contains(OriginateRecord.Header(name: "Async", value: "true")) == true)
        #expect(records.first?.headers.contains(OriginateRecord.Header(name: "Variable", value: "MYVAR=x")) == true)
        try await server.stop()
    }

    /// The stages `originate(_:onStage:)` hands on, in order, up to the terminal one; and whether every
    /// call came on an event loop thread (where the connection's bytes are read: no hop of its own).
    static func stagesByFunction(_ client: AMIClient, _ request: OriginateRequest) async -> (stages: [OriginateStage], onLoop: Bool) {
        let (stream, continuation) = AsyncStream.makeStream(of: (OriginateStage, Bool).self)
        client.originate(request) { stage in
            continuation.yield((stage, MultiThreadedEventLoopGroup.currentEventLoop != nil))
            if stage.isTerminal { continuation.finish() }
        }
        var stages: [OriginateStage] = []
        var onLoop = true
        for await (stage, loop) in stream {
            stages.append(stage)
            onLoop = onLoop && loop
        }
        return (stages, onLoop)
    }

    @Test func stagesHandedToAFunctionOnTheLoop() async throws {
        let server = try await Self.startServer()
        try await Self.withClient(server, configure: { $0.pingInterval = .seconds(3600) }) { client in
            let answered = await Self.stagesByFunction(client, Self.request("PJSIP/answer", id: "f-1"))
            #expect(answered.stages == [.queued, .answered(channel: "PJSIP/answer-00000001", uniqueid: "f-1"),
                                        .hungUp(cause: 16, causeText: "Normal Clearing")])
            #expect(answered.onLoop)
            #expect(await Self.stagesByFunction(client, Self.request("PJSIP/busy/10", id: "f-2")).stages
                    == [.queued, .failed(reason: 5, channel: "PJSIP/busy/10")])
            // The connection drops while the call rings: how far it got, and nothing after.
            let (ringing, continuation) = AsyncStream.makeStream(of: OriginateStage.self)
            client.originate(Self.request("PJSIP/answer/60000", id: "f-3")) { stage in
                continuation.yield(stage)
                if stage.isTerminal { continuation.finish() }
            }
            var stages = ringing.makeAsyncIterator()
            #expect(await stages.next() == .queued)
            await server.closeAllConnections()
            #expect(await stages.next() == .connectionLost(afterAnswer: false))
            #expect(await stages.next() == nil)
        }
        let notConnected = AMIClient(configuration: Self.configuration(for: server), logger: Logger(label: "ami-test"))
        #expect(await Self.stagesByFunction(notConnected, Self.request("PJSIP/answer", id: "f-4")).stages
                == [.notSent("not connected to AMI")])
        #expect(server.originates.map(\.channelId) == ["f-1", "f-2", "f-3"])
        try await server.stop()
    }

    @Test func md5LoginAndPing() async throws {
        let server = try await Self.startServer()
        try await Self.withClient(server, configure: { $0.useMD5 = true }) { client in
            let roundTrip = try await client.ping()
            #expect(roundTrip > .zero)
        }
        try await server.stop()
    }

    @Test func wrongSecretFailsAuthentication() async throws {
        let server = try await Self.startServer()
        for md5 in [false, true] {
            var configuration = Self.configuration(for: server, secret: "wrong")
            configuration.useMD5 = md5
            let client = AMIClient(configuration: configuration, logger: Logger(label: "ami-test"))
            await #expect(throws: AMIConnectionError.authenticationFailed("Authentication failed")) {
                try await client.runOnce()
            }
            await #expect(throws: AMIConnectionError.authenticationFailed("Authentication failed")) {
                try await client.waitUntilConnected()
            }
        }
        try await server.stop()
    }

    @Test func refusedConnectionIsReported() async throws {
        let server = try await Self.startServer()
        let port = server.port
        try await server.stop()
        var configuration = AMIConfiguration(host: "127.0.0.1", port: port, username: "spoold", secret: AMISecret("secret"))
        // Loopback refuses at once; the timeout only has to outlast an event loop starved by the
        // heavier tests running in parallel, so that the refusal is the outcome that is measured.
        configuration.connectTimeout = Duration.seconds(60).scaledDeadline
        let client = AMIClient(configuration: configuration, logger: Logger(label: "ami-test"))
        await #expect(throws: AMIConnectionError.refused("127.0.0.1:\(port)")) { try await client.runOnce() }
    }

    @Test(arguments: [("busy", 5), ("congestion", 8), ("noanswer", 3), ("failure", 0)])
    func eachFailureReason(outcome: String, reason: Int) async throws {
        let server = try await Self.startServer()
        try await Self.withClient(server) { client in
            let stages = await Self.stages(client.originate(Self.request("PJSIP/\(outcome)/10", id: "f-\(outcome)")))
            #expect(stages == [.queued, .failed(reason: reason, channel: "PJSIP/\(outcome)/10")])
        }
        try await server.stop()
    }

    @Test func noanswerWaitsForTheOriginateTimeout() async throws {
        let server = try await Self.startServer()
        try await Self.withClient(server) { client in
            let stages = await Self.stages(client.originate(Self.request("Local/noanswer", id: "na", timeout: .milliseconds(50))))
            #expect(stages == [.queued, .failed(reason: 3, channel: "Local/noanswer")])
        }
        try await server.stop()
    }

    @Test func errorResponsesAreRejections() async throws {
        let server = try await Self.startServer()
        try await Self.withClient(server) { client in
            var request = Self.request("PJSIP/answer", id: "e1", context: "nonexistent")
            #expect(await Self.stages(client.originate(request)) == [.rejected("Extension does not exist.")])
            request = Self.request("nochannel", id: "e2")
            #expect(await Self.stages(client.originate(request)) == [.rejected("Invalid channel")])
            request = Self.request("PJSIP/answer", id: String(repeating: "x", count: 150))
            #expect(await Self.stages(client.originate(request)) == [.rejected("Uniqueid length exceeds maximum of 149")])
            request = OriginateRequest(channel: "PJSIP/answer", application: "System", data: "rm -rf /", channelId: "e3")
            #expect(await Self.stages(client.originate(request)) == [.rejected("Originate Access Forbidden: app or data blacklisted")])
            // Refused before the wire: a line break would let a call file inject actions.
            request = Self.request("PJSIP/answer\r\nAction: Command", id: "e4")
            let injected = await Self.stages(client.originate(request))
            #expect(injected.count == 1)
            if case .rejected(let message) = injected.first { #expect(message.hasPrefix("invalid Originate")) } else { Issue.record("\(injected)") }
            server.setBehaviour { $0.shuttingDown = true }
            #expect(await Self.stages(client.originate(Self.request("PJSIP/answer", id: "e5"))) == [.rejected("Asterisk is shutting down")])
            server.setBehaviour { $0.shuttingDown = false }
        }
        #expect(server.originates.map(\.channelId) == ["e1", "e2", String(repeating: "x", count: 150), "e3", "e5"])
        try await server.stop()
    }

    @Test func serverClosingMidCallReportsTheStageAndNeverResends() async throws {
        let server = try await Self.startServer()
        // The test counts connections: exactly one reconnect, the one the server's close causes. A keepalive
        // Ping answered late (the 10,000-Originate test may starve the event loop meanwhile) would add one.
        try await Self.withClient(server, configure: { $0.pingInterval = .seconds(3600) }) { client in
            let talking = client.originate(Self.request("PJSIP/answer/0/60000", id: "long-call"))
            let ringing = client.originate(Self.request("PJSIP/answer/60000", id: "ringing-call"))
            var talkingStages = talking.makeAsyncIterator()
            #expect(await talkingStages.next() == .queued)
            #expect(await talkingStages.next() == .answered(channel: "PJSIP/answer/0/60000-00000001", uniqueid: "long-call"))
            await server.closeAllConnections()
            #expect(await talkingStages.next() == .connectionLost(afterAnswer: true))
            #expect(await talkingStages.next() == nil)
            #expect(await Self.stages(ringing) == [.queued, .connectionLost(afterAnswer: false)])

            try await client.waitUntilConnected()
            #expect(try await client.channelExists("long-call"))
            #expect(try await client.channelExists("ringing-call"))
            #expect(try await !client.channelExists("never-dialled"))
            // What adoption decides by: Up (answered) or still ringing.
            #expect(try await client.channelStatus("long-call") == AMIChannelStatus(state: 6, description: "Up"))
            #expect(try await client.channelStatus("ringing-call") == AMIChannelStatus(state: 5, description: "Ringing"))
            #expect(try await client.channelStatus("never-dialled") == nil)
            // The Hangup event of a channel another session originated reaches a watcher, with its state.
            let hangups = await client.hangupEvent(of: "ringing-call")
            #expect(await server.hangUp("ringing-call"))
            var events = hangups.makeAsyncIterator()
            let hangup = await events.next()
            #expect(hangup?["Uniqueid"] == "ringing-call")
            #expect(hangup?["ChannelState"] == "5")
            #expect(await events.next() == nil)
        }
        #expect(server.originates.map(\.channelId) == ["long-call", "ringing-call"], "nothing was dialled twice")
        #expect(server.connectionsAccepted == 2)
        try await server.stop()
    }

    @Test func notConnectedMeansNotSent() async throws {
        let server = try await Self.startServer()
        let client = AMIClient(configuration: Self.configuration(for: server), logger: Logger(label: "ami-test"))
        #expect(await Self.stages(client.originate(Self.request("PJSIP/answer", id: "n1"))) == [.notSent("not connected to AMI")])
        await #expect(throws: AMIActionError.notConnected) { try await client.ping() }
        #expect(server.originates.isEmpty)
        try await server.stop()
    }

    @Test func silentServerTripsTheKeepalive() async throws {
        let server = try await Self.startServer { $0.behaviour.silentAfterLogin = true }
        var configuration = Self.configuration(for: server)
        configuration.pingInterval = .milliseconds(100)
        configuration.pingTimeout = .milliseconds(200)
        let client = AMIClient(configuration: configuration, logger: Logger(label: "ami-test"))
        await #expect(throws: AMIConnectionError.keepaliveTimeout) { try await client.runOnce() }
        try await server.stop()
    }

    @Test func resultsThatNeverComeExpireAsNoResponse() async throws {
        let server = try await Self.startServer { $0.behaviour.withholdOriginateResults = true }
        try await Self.withClient(server, configure: { $0.originateResponseMargin = .milliseconds(100) }) { client in
            let stages = await Self.stages(client.originate(Self.request("PJSIP/answer", id: "silent", timeout: .milliseconds(50))))
            #expect(stages == [.queued, .noResponse])
        }
        try await server.stop()
    }

    @Test func tenThousandConcurrentPendingOriginates() async throws {
        let server = try await Self.startServer { $0.behaviour.recordOriginates = false }
        // A debug build on a shared machine may take seconds to answer 10,000 actions; a Response that
        // late must not count as missing here.
        try await Self.withClient(server, configure: {
            $0.responseTimeout = Duration.seconds(120).scaledDeadline
            $0.originateResponseMargin = Duration.seconds(120).scaledDeadline
            // A keepalive Ping is answered after the 10,000 actions queued before it, just as late.
            $0.pingTimeout = Duration.seconds(120).scaledDeadline
        }) { client in
            // Every call rings 300 ms, so all 10,000 are pending together before the first result.
            let outcomes = await withTaskGroup(of: [OriginateStage].self) { group in
                for index in 0..<10_000 {
                    let stream = client.originate(Self.request("PJSIP/answer/300", id: "bulk-\(index)"))
                    group.addTask { await Self.stages(stream) }
                }
                var all: [[OriginateStage]] = []
                for await stages in group { all.append(stages) }
                return all
            }
            #expect(outcomes.count == 10_000)
            let unexpected = outcomes.filter { !($0.count == 3 && $0.first == .queued && $0.last == .hungUp(cause: 16, causeText: "Normal Clearing")) }
            #expect(unexpected.isEmpty, "\(unexpected.count) unexpected, e.g. \(unexpected.prefix(3))")
        }
        try await server.stop()
    }

    @Test func consumerStoppingEarlyIsForgotten() async throws {
        let server = try await Self.startServer()
        try await Self.withClient(server) { client in
            for index in 0..<50 {
                for await stage in client.originate(Self.request("PJSIP/answer/0/60000", id: "early-\(index)")) {
                    if case .answered = stage { break }
                }
            }
            // The client keeps working after consumers walked away.
            #expect(await Self.stages(client.originate(Self.request("PJSIP/busy", id: "after"))) == [.queued, .failed(reason: 5, channel: "PJSIP/busy")])
        }
        try await server.stop()
    }

    @Test func unknownActionsAndStatusFromTheServer() async throws {
        let server = try await Self.startServer { $0.behaviour.filterPermitted = false }
        try await Self.withClient(server) { client in
            let unknown = try await client.send(AMIMessage(["Action": "Bogus"]))
            #expect(unknown["Response"] == "Error")
            #expect(unknown["Message"] == "Invalid/unknown command: Bogus. Use Action: ListCommands to show available commands.")
            let missing = try await client.send(AMIMessage(["Foo": "bar"]))
            #expect(missing["Message"] == "Missing action in request")
        }
        try await server.stop()
    }
}

@Suite struct ClientLifecycleTests {
    @Test func waitingForAConnectionCanBeCancelled() async throws {
        let client = AMIClient(
            configuration: AMIConfiguration(host: "127.0.0.1", port: 1, username: "u", secret: AMISecret("s")),
            logger: Logger(label: "ami-test")
        )
        let waiting = Task { try await client.waitUntilConnected() }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
    }
}
