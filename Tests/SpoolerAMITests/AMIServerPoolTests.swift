import AMI
import AMITestServer
import CallFile
import Logging
import TestSupport
import EngineTestSupport
import Testing
@testable import Spooler
@testable import SpoolerAMI

/// The engine dialling through a pool of two in-process Asterisk-like test servers.
@Suite("AMI server pool")
struct AMIServerPoolTests {
    final class Rig {
        let harness: EngineHarness
        let pool: AMIServerPool
        var servers: [AMITestServer]
        let log = LogCapture()
        private var running: Task<Void, any Error>?

        init(selection: AMIServerSelection, limits: [(weight: Int, maxConcurrent: Int, maxCallsPerSecond: Double)],
             behaviour: (Int, inout AMITestServerConfiguration.Behaviour) -> Void) async throws {
            var servers: [AMITestServer] = []
            for index in limits.indices {
                var configuration = AMITestServerConfiguration(authenticationFailureDelay: .milliseconds(20))
                behaviour(index, &configuration.behaviour)
                servers.append(try await AMITestServer.start(configuration: configuration))
            }
            self.servers = servers
            let clock = ManualSpoolClock(now: EngineHarness.t0)
            pool = try AMIServerPool(
                servers: limits.indices.map { index in
                    AMIServer(name: "pbx-\(index)", configuration: Self.configuration(port: servers[index].port),
                              weight: limits[index].weight, maxConcurrent: limits[index].maxConcurrent,
                              maxCallsPerSecond: limits[index].maxCallsPerSecond)
                },
                selection: selection, clock: clock, logger: log.logger,
                pollInterval: .milliseconds(50))
            harness = try EngineHarness(clock: clock, backend: pool)
            let services = pool.services
            running = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for service in services { group.addTask { try await service.run() } }
                    try await group.waitForAll()
                }
            }
        }

        static func configuration(port: Int) -> AMIConfiguration {
            var configuration = AMIConfiguration(host: "127.0.0.1", port: port, username: "spoold", secret: AMISecret("secret"))
            configuration.responseTimeout = .seconds(5)
            configuration.reconnectInitialDelay = .milliseconds(10)
            configuration.reconnectMaxDelay = .milliseconds(100)
            return configuration
        }

        func waitUntilConnected() async throws {
            for client in pool.clients { try await client.waitUntilConnected() }
            try await harness.start()
        }

        /// Waits (polling, with a generous deadline) until the pool sees a state it learns over the network.
        func eventually(_ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ condition: () -> Bool) async throws {
            let deadline = ContinuousClock.now + .seconds(20)
            while !condition() {
                guard ContinuousClock.now < deadline else {
                    Issue.record("not within 20 s: \(what); log:\n\(log.messages.suffix(10).joined(separator: "\n"))", sourceLocation: sourceLocation)
                    throw CancellationError()
                }
                try await Task.sleep(for: .milliseconds(10))
            }
        }

        /// Ends a file's call on the first server from the far end once a `Status` reply there has shown it
        /// Up: the test decides when the call ends instead of racing the client's reconnection.
        func hangUpOnceSeenUp(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let channelId = channelId(name)
            try await eventually("\(name) seen Up by a Status question after the drop", sourceLocation: sourceLocation) {
                servers[0].statusShowedUp(channelId)
            }
            #expect(await servers[0].hangUp(channelId), sourceLocation: sourceLocation)
        }

        /// Waits for every one of `names` to finish, in whatever order they do.
        func finishedAll(_ names: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: CallStatus] {
            var statuses: [String: CallStatus] = [:]
            while statuses.count < names.count {
                let event = try await harness.next("finish of \(names.count - statuses.count) more files", sourceLocation: sourceLocation) {
                    if case .finished(let name, _, _, _) = $0 { names.contains(name) } else { false }
                }
                if case .finished(let name, let status, _, _) = event { statuses[name] = status }
            }
            return statuses
        }

        /// Stops one server for good (the test may start another on its port).
        func stopServer(_ index: Int) async throws {
            try await servers[index].stop()
            stopped.insert(index)
        }
        private var stopped: Set<Int> = []

        /// A new server took the place of a stopped one.
        func restarted(_ index: Int) { stopped.remove(index) }

        /// The ChannelIds each server received, in order.
        var received: [[String]] { servers.map { $0.originates.compactMap(\.channelId) } }

        func channelId(_ name: String, attempt: Int = 1) -> String {
            ChannelID.make(fileName: name, startEpoch: EngineHarness.t0.seconds + 300, attempt: attempt)
        }

        func tearDown() async {
            await harness.stop()
            running?.cancel()
            _ = await running?.result
            for (index, server) in servers.enumerated() where !stopped.contains(index) { try? await server.stop() }
        }
    }

    static func withRig(_ selection: AMIServerSelection = .failover,
                        _ limits: [(weight: Int, maxConcurrent: Int, maxCallsPerSecond: Double)] = [(1, 0, 0), (1, 0, 0)],
                        behaviour: (Int, inout AMITestServerConfiguration.Behaviour) -> Void = { _, _ in },
                        _ body: (Rig) async throws -> Void) async throws {
        let rig = try await Rig(selection: selection, limits: limits, behaviour: behaviour)
        do {
            try await rig.waitUntilConnected()
            try await body(rig)
        } catch {
            await rig.tearDown()
            throw error
        }
        await rig.tearDown()
    }

    static func call(_ channel: String, _ extra: KeyValuePairs<String, String> = [:]) -> String {
        callText(["Channel": channel, "Application": "Wait", "Archive": "yes"]) + extra.map { "\($0.key): \($0.value)\n" }.joined()
    }

    @Test("Failover: calls go to the first server; when it stops, the second carries them")
    func failover() async throws {
        try await Self.withRig { rig in
            try rig.harness.submit("one.call", Self.call("Test/answer"))
            #expect(try await rig.harness.finished("one.call").0 == .completed)
            #expect(rig.received == [[rig.channelId("one.call")], []])

            try await rig.stopServer(0)
            try await rig.eventually("pbx-0 seen as down") { !rig.pool.status()[0].connected }
            try rig.harness.submit("two.call", Self.call("Test/answer"))
            #expect(try await rig.harness.finished("two.call").0 == .completed)
            #expect(rig.received == [[rig.channelId("one.call")], [rig.channelId("two.call")]])
        }
    }

    @Test("Spread: weights 3 and 1 give six calls of eight to the first, two to the second")
    func spreadByWeight() async throws {
        try await Self.withRig(.spread, [(3, 0, 0), (1, 0, 0)]) { rig in
            let names = (1...8).map { "spread-\($0).call" }
            for name in names { try rig.harness.submit(name, Self.call("Test/answer"), announce: false) }
            rig.harness.changed(.rescan(names, reason: .initial))
            #expect(try await rig.finishedAll(names).values.allSatisfy { $0 == .completed })
            #expect(rig.received.map(\.count) == [6, 2])
        }
    }

    @Test("Per-server limits are never exceeded; waiting files go as calls end, without the clock moving")
    func perServerLimits() async throws {
        try await Self.withRig(.spread, [(1, 1, 0), (1, 2, 0)]) { rig in
            let names = (1...7).map { "limited-\($0).call" }
            for name in names { try rig.harness.submit(name, Self.call("Test/answer/0/150"), announce: false) }
            rig.harness.changed(.rescan(names, reason: .initial))
            #expect(try await rig.finishedAll(names).values.allSatisfy { $0 == .completed })
            #expect(rig.received.map(\.count).reduce(0, +) == 7)
            #expect(rig.servers[0].peakLiveChannels <= 1)
            #expect(rig.servers[1].peakLiveChannels <= 2)
            // A slot is freed when the backend is done with the attempt, which can be just after the engine
            // archived the file on its last stage (seen under TSan): wait for it, a leaked slot still fails.
            try await rig.eventually("every server slot freed") { rig.pool.status().map(\.inFlight) == [0, 0] }
        }
    }

    @Test("A server that drops after queueing a call: the call is followed there to its end, never dialled on the other")
    func dropAfterQueued() async throws {
        try await Self.withRig(behaviour: { index, behaviour in
            if index == 0 { behaviour.disconnectAfterQueued = 1 }
        }) { rig in
            // The call lasts until the test ends it, once the client has reconnected and seen it Up there.
            try rig.harness.submit("kept.call", Self.call("Test/answer/0/600000"))
            try await rig.hangUpOnceSeenUp("kept.call")
            #expect(try await rig.harness.finished("kept.call").0 == .completed)
            #expect(rig.received == [[rig.channelId("kept.call")], []])
            #expect(rig.harness.archived("kept.call")?.components(separatedBy: "StartRetry").count == 2, "one attempt")
        }
    }

    @Test("A drop between the Originate and its response: the call's fate is asked of that server, not re-dialled elsewhere")
    func dropBeforeResponse() async throws {
        try await Self.withRig(behaviour: { index, behaviour in
            if index == 0 { behaviour.disconnectBeforeOriginateResponse = true }
        }) { rig in
            // Rings 200 ms: its OriginateResponse comes after the drop, so the client never learns of it. It
            // lasts until the test ends it, once the client has reconnected and seen it Up there.
            try rig.harness.submit("unsure.call", Self.call("Test/answer/200/600000"))
            try await rig.hangUpOnceSeenUp("unsure.call")
            #expect(try await rig.harness.finished("unsure.call").0 == .completed)
            #expect(rig.received == [[rig.channelId("unsure.call")], []])
        }
    }

    @Test("A drop before the response, and that server has no such call: nothing counted, and the file goes out again")
    func dropBeforeResponseOfAnUnknownCall() async throws {
        try await Self.withRig(behaviour: { index, behaviour in
            if index == 0 {
                behaviour.disconnectBeforeOriginateResponse = true
                behaviour.withholdOriginateResults = true  // the request is lost with the connection
            }
        }) { rig in
            let text = Self.call("Test/answer")
            try rig.harness.submit("lost.call", text)
            _ = try await rig.harness.next { $0 == .notPlaced(file: "lost.call") }
            #expect(rig.harness.inOutgoing("lost.call") == text, "the StartRetry was taken back out")
            #expect(rig.received == [[rig.channelId("lost.call")], []])
            rig.servers[0].setBehaviour {
                $0.disconnectBeforeOriginateResponse = false
                $0.withholdOriginateResults = false
            }
            rig.harness.advance(by: .seconds(1))
            #expect(try await rig.harness.finished("lost.call").0 == .completed)
            #expect(rig.received[0].count == 2 && rig.received[1].isEmpty)
        }
    }

    @Test("Every server down: due files wait; a server that comes back is reconnected and takes them at once")
    func reconnectAfterServerReturns() async throws {
        try await Self.withRig { rig in
            let port = rig.servers[0].port
            try await rig.stopServer(0)
            try await rig.stopServer(1)
            try await rig.eventually("both servers seen as down") { !rig.pool.isReady }
            try rig.harness.submit("waiting.call", Self.call("Test/answer"))
            try await rig.eventually("the engine noticing it cannot dial") { rig.harness.log.contains("[waiting.call] due, but the backend cannot take calls") }

            var configuration = AMITestServerConfiguration(port: port, authenticationFailureDelay: .milliseconds(20))
            configuration.behaviour.recordOriginates = true
            let revived = try await AMITestServer.start(configuration: configuration)
            rig.servers[0] = revived
            rig.restarted(0)
            // The manual clock does not move: the login itself wakes the engine.
            #expect(try await rig.harness.finished("waiting.call").0 == .completed)
            #expect(revived.originates.compactMap(\.channelId) == [rig.channelId("waiting.call")])
            #expect(rig.pool.status().map(\.connected) == [true, false])
        }
    }

    @Test("ModuleCheck at login: a warning names the server whose pbx_spool is loaded; a refused check says so")
    func moduleCheckWarning() async throws {
        try await Self.withRig(behaviour: { index, behaviour in
            behaviour.systemPermitted = index == 0
            behaviour.loadedModules = ["pbx_spool"]
        }) { rig in
            try await rig.eventually("both ModuleCheck answers") { rig.pool.status().allSatisfy { $0.spoolModule != nil } }
            #expect(rig.pool.status().map(\.spoolModule) == [.loaded, .unknown("Permission denied")])
            #expect(rig.log.contains("warning", "AMI server pbx-0", "pbx_spool", "both dial the same call files", "noload => pbx_spool.so"))
            #expect(rig.log.contains("notice", "AMI server pbx-1", "cannot tell", "Permission denied"))
            #expect(!rig.log.contains("warning", "pbx-1"))
        }
    }

    @Test("channelExists asks every server: true if any has it, nil while one that might cannot answer")
    func channelExistsAcrossServers() async throws {
        try await Self.withRig { rig in
            let request = CallRequest(channel: "Test/answer/0/60000", target: .application(name: "Wait", data: ""),
                                      timeout: .seconds(30), callerID: nil, account: nil, variables: [], codecs: ["slin"],
                                      earlyMedia: false, channelId: "held-call")
            var stages = rig.pool.place(request).makeAsyncIterator()
            #expect(await stages.next() == .placed)
            #expect(await stages.next() == .answered(channel: "Test/answer/0/60000-00000001"))
            #expect(await rig.pool.channelExists("held-call") == true)
            #expect(await rig.pool.channelExists("nobody") == false)
            try await rig.stopServer(1)
            try await rig.eventually("pbx-1 seen as down") { !rig.pool.status()[1].connected }
            #expect(await rig.pool.channelExists("held-call") == true)
            #expect(await rig.pool.channelExists("nobody") == nil, "pbx-1 might hold it")
        }
    }
}
