import AMI
import AMITestServer
import CallFile
import Logging
import EngineTestSupport
import Testing
import TestSupport
@testable import Spooler
@testable import SpoolerAMI

@Suite("AMI backend")
struct AMIBackendTests {
    @Test("The request maps onto Originate as contract §3 says; empty context and extension are left out")
    func mapping() {
        let request = CallRequest(channel: "PJSIP/100@trunk", target: .dialplan(context: "", extension: "s", priority: 2),
                                  timeout: .seconds(30), callerID: "\"A\" <1>", account: nil,
                                  variables: [("A", "1"), ("AST_OUTGOING_ATTEMPT", "3")], codecs: ["slin", "ulaw"],
                                  earlyMedia: true, channelId: "spoold-x-1-3")
        let originate = AMIBackend.originate(for: request)
        #expect(originate.channel == "PJSIP/100@trunk")
        #expect(originate.context == nil && originate.exten == "s" && originate.priority == 2)
        #expect(originate.application == nil)
        #expect(originate.timeout == .seconds(30))
        #expect(originate.callerID == "\"A\" <1>" && originate.account == nil)
        #expect(originate.variables == [AMIVariable(name: "A", value: "1"), AMIVariable(name: "AST_OUTGOING_ATTEMPT", value: "3")])
        #expect(originate.codecs == ["slin", "ulaw"])
        #expect(originate.earlyMedia)
        #expect(originate.channelId == "spoold-x-1-3")
        let app = AMIBackend.originate(for: CallRequest(channel: "Local/s@t", target: .application(name: "Playback", data: "hello"),
                                                        timeout: .seconds(45), callerID: nil, account: "acc", variables: [],
                                                        codecs: ["slin"], earlyMedia: false, channelId: "i"))
        #expect(app.application == "Playback" && app.data == "hello" && app.context == nil && app.exten == nil && app.priority == nil)
        #expect(app.account == "acc")
    }

    @Test("hangUp sends Hangup on the ChannelId (the server records it); the call ends as any hangup; a gone call is no error",
          arguments: [true, false])
    func hangUp(answered: Bool) async throws {
        let server = try await AMITestServer.start()
        let client = AMIClient(configuration: AMIConfiguration(host: "127.0.0.1", port: server.port, username: "spoold",
                                                               secret: AMISecret("secret")),
                               logger: Logger(label: "ami") { _ in SwiftLogNoOpLogHandler() })
        let connection = Task { try await client.run() }
        defer { connection.cancel() }
        try await client.waitUntilConnected()
        let backend = AMIBackend(client: client)
        let channel = answered ? "PJSIP/answer/0/60000" : "PJSIP/noanswer/60000"
        let request = CallRequest(channel: channel, target: .application(name: "Wait", data: ""), timeout: .seconds(90),
                                  callerID: nil, account: nil, variables: [], codecs: ["slin"], earlyMedia: false,
                                  channelId: "spoold-cut-1-1")
        var stages = backend.place(request).makeAsyncIterator()
        #expect(await stages.next() == .placed)
        if answered {
            guard case .answered? = await stages.next() else { Issue.record("not answered"); return }
        }
        #expect(await server.channelIsUp("spoold-cut-1-1"))
        try await backend.hangUp(channelId: "spoold-cut-1-1")
        let end = await stages.next()
        if answered {
            #expect(end == .hungUp)
        } else {
            guard case .failed(reason: 1, _)? = end else { Issue.record("ended with \(String(describing: end))"); return }
        }
        #expect(await stages.next() == nil)
        #expect(server.hangupRequests == ["spoold-cut-1-1"])
        #expect(!(await server.channelIsUp("spoold-cut-1-1")))
        try await backend.hangUp(channelId: "spoold-cut-1-1")  // No such channel: it has ended, no error
        #expect(server.hangupRequests.count == 2)
        connection.cancel()
        _ = await connection.result
        try await server.stop()
    }

    /// An engine dialling through a real AMI client against the in-process Asterisk-like test server.
    static func withAMI(_ change: (inout AMITestServerConfiguration.Behaviour) -> Void = { _ in },
                        _ body: (EngineHarness, AMITestServer) async throws -> Void) async throws {
        var serverConfiguration = AMITestServerConfiguration()
        change(&serverConfiguration.behaviour)
        let server = try await AMITestServer.start(configuration: serverConfiguration)
        let client = AMIClient(configuration: AMIConfiguration(host: "127.0.0.1", port: server.port, username: "spoold",
                                                               secret: AMISecret("secret")),
                               logger: Logger(label: "ami") { _ in SwiftLogNoOpLogHandler() })
        let connection = Task { try await client.run() }
        try await client.waitUntilConnected()
        let harness = try EngineHarness(backend: AMIBackend(client: client))
        try await harness.start()
        do {
            try await body(harness, server)
        } catch {
            await harness.stop()
            connection.cancel()
            try? await server.stop()
            throw error
        }
        await harness.stop()
        connection.cancel()
        _ = await connection.result
        try await server.stop()
    }

    @Test("Answered through AMI: Completed at hangup, the Originate carries the file's values and the ChannelId")
    func answered() async throws {
        try await Self.withAMI { harness, server in
            let text = callText(["Channel": "Test/answer/0/50", "Context": "target", "Extension": "s", "Set": "X=1", "Archive": "yes"])
            try harness.submit("ami.call", text)
            #expect(try await harness.finished("ami.call").0 == .completed)
            let record = try #require(server.originates.first)
            #expect(record.channel == "Test/answer/0/50")
            #expect(record.channelId == ChannelID.make(fileName: "ami.call", startEpoch: EngineHarness.t0.seconds + 300, attempt: 1))
            let variables = record.headers.filter { $0.name == "Variable" }.map(\.value)
            #expect(variables == ["X=1", "AST_OUTGOING_ATTEMPT=1"])
        }
    }

    @Test("Busy through AMI with MaxRetries 0: Expired, reason 5")
    func busy() async throws {
        try await Self.withAMI { harness, _ in
            try harness.submit("busy.call", callText(["Channel": "Test/busy", "Application": "Wait", "Archive": "yes"]))
            #expect(try await harness.finished("busy.call").0 == .expired)
            #expect(harness.log.contains("[busy.call]", "reason 5 (Remote end is Busy)"))
        }
    }

    @Test("Response: Error is permanent: Failed with the message, no retry")
    func rejected() async throws {
        try await Self.withAMI({ $0.originatePermitted = false }) { harness, _ in
            try harness.submit("denied.call", callText(["Channel": "Test/answer", "MaxRetries": "3", "Application": "Wait", "Archive": "yes"]))
            #expect(try await harness.finished("denied.call").0 == .failed)
            #expect(harness.log.contains("[denied.call]", "Permission denied"))
            #expect(harness.archived("denied.call")?.components(separatedBy: "StartRetry").count == 2)
        }
    }

    @Test("'Asterisk is shutting down' is transient: the StartRetry is taken back out and nothing is counted")
    func shuttingDown() async throws {
        try await Self.withAMI { harness, server in
            server.setBehaviour { $0.shuttingDown = true }  // after login: Asterisk refuses every action while it stops
            let text = callText(["Channel": "Test/answer", "Application": "Wait", "Archive": "yes"])
            try harness.submit("later.call", text)
            _ = try await harness.next { $0 == .notPlaced(file: "later.call") }
            #expect(harness.inOutgoing("later.call") == text)
            #expect(harness.mtime(harness.outgoing + "/later.call") == EngineHarness.t0)
            server.setBehaviour { $0.shuttingDown = false }
            harness.advance(by: .seconds(1))
            #expect(try await harness.finished("later.call").0 == .completed)
            #expect(harness.archived("later.call") == text + "\nStartRetry: 2381 1 (\(EngineHarness.t0.seconds + 301))\nStatus: Completed\n")
        }
    }
}

@Suite("AMI backend: following an adopted call")
struct AMIAdoptionTests {
    /// A client connected to a fresh test server, and a call of `channel` up at that server (placed by
    /// another client, as by the spoold that crashed).
    static func withAdoptableCall(_ channel: String, _ body: (AMIBackend, AMITestServer, String) async throws -> Void) async throws {
        let server = try await AMITestServer.start(configuration: AMITestServerConfiguration())
        func connectedClient() async throws -> (AMIClient, Task<Void, any Error>) {
            let client = AMIClient(configuration: AMIConfiguration(host: "127.0.0.1", port: server.port, username: "spoold",
                                                                   secret: AMISecret("secret")),
                                   logger: Logger(label: "ami") { _ in SwiftLogNoOpLogHandler() })
            let run = Task { try await client.run() }
            try await client.waitUntilConnected()
            return (client, run)
        }
        let (dialler, diallerRun) = try await connectedClient()
        let (client, run) = try await connectedClient()
        var stages = dialler.originate(OriginateRequest(channel: channel, application: "Wait", data: "1",
                                                        timeout: .seconds(60), channelId: "adopted-1")).makeAsyncIterator()
        #expect(await stages.next() == .queued)
        diallerRun.cancel()
        try await body(AMIBackend(client: client, pollInterval: .milliseconds(50)), server, "adopted-1")
        run.cancel()
        try await server.stop()
    }

    static func stages(_ stream: AsyncStream<CallStage>) async -> [CallStage] {
        var all: [CallStage] = []
        for await stage in stream { all.append(stage) }
        return all
    }

    @Test("Seen Up by the recovery check, hung up before the follower's first look: still answered")
    func answeredThenGoneAtOnce() async throws {
        try await Self.withAdoptableCall("PJSIP/answer/0/600000") { backend, server, id in
            // The test server answers the call on its own loop.
            try await waitUntilAsync("the adopted call to be up", timeout: .seconds(10)) {
                if case .present(let status) = await backend.channelStatus(id) { status.isUp } else { false }
            }
            #expect(await backend.channelExists(id) == true)
            #expect(await server.hangUp(id))
            #expect(await Self.stages(backend.awaitHangup(of: id)) == [.answered(channel: id), .hungUp])
        }
    }

    @Test("Still ringing at the recovery check and hung up unanswered: never answered")
    func ringingThenGone() async throws {
        try await Self.withAdoptableCall("PJSIP/noanswer/600000") { backend, server, id in
            #expect(await backend.channelExists(id) == true)
            #expect(await server.hangUp(id))
            #expect(await Self.stages(backend.awaitHangup(of: id)) == [.hungUp])
        }
    }
}
