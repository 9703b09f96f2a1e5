import AMI
import AMITestServer
import Logging
import Testing

/// What the AMI server pool relies on: ModuleCheck answers in Asterisk's wire format, the client's
/// connection states, and a drop between an Originate and its response.
@Suite struct ServerPoolSupportTests {
    static let login = TestServerTests.login

    @Test("ModuleCheck: Success with an empty Version when loaded (with or without .so), Module not loaded, Permission denied without system")
    func moduleCheckWireFormat() async throws {
        let server = try await AMITestServer.start(configuration: AMITestServerConfiguration(behaviour: {
            var behaviour = AMITestServerConfiguration.Behaviour()
            behaviour.systemPermitted = true
            behaviour.loadedModules = ["pbx_spool"]
            return behaviour
        }()))
        let (_, replies) = try await TestServerTests.exchange(server, [
            Self.login,
            AMIMessage(["Action": "ModuleCheck", "Module": "pbx_spool", "ActionID": "m1"]),
            AMIMessage(["Action": "ModuleCheck", "Module": "pbx_spool.so", "ActionID": "m2"]),
            AMIMessage(["Action": "ModuleCheck", "Module": "res_nothing", "ActionID": "m3"]),
        ], expecting: 5)
        #expect(replies[2] == AMIMessage(["Response": "Success", "ActionID": "m1", "Version": ""]))
        #expect(replies[3] == AMIMessage(["Response": "Success", "ActionID": "m2", "Version": ""]))
        #expect(replies[4] == AMIMessage(["Response": "Error", "ActionID": "m3", "Message": "Module not loaded"]))

        server.setBehaviour { $0.systemPermitted = false }
        let (_, refused) = try await TestServerTests.exchange(server, [
            Self.login, AMIMessage(["Action": "ModuleCheck", "Module": "pbx_spool", "ActionID": "m4"]),
        ], expecting: 3)
        #expect(refused[2] == AMIMessage(["Response": "Error", "ActionID": "m4", "Message": "Permission denied"]))
        try await server.stop()
    }

    @Test("connectionStates starts with the current state and follows each drop and login")
    func connectionStates() async throws {
        let server = try await ClientServerTests.startServer()
        try await ClientServerTests.withClient(server) { client in
            var states = client.connectionStates().makeAsyncIterator()
            #expect(await states.next() == true)
            await server.closeAllConnections()
            #expect(await states.next() == false)
            #expect(await states.next() == true, "the client logs in again by itself")
        }
        try await server.stop()
    }

    @Test("A drop after the Originate was written but before its response: notSent with the unconfirmed message, and the call may be up")
    func dropBeforeResponseIsUnconfirmed() async throws {
        let server = try await ClientServerTests.startServer { $0.behaviour.disconnectBeforeOriginateResponse = true }
        try await ClientServerTests.withClient(server) { client in
            // Rings 300 ms: its OriginateResponse comes after the drop, so the client never learns of it.
            let stages = await ClientServerTests.stages(client.originate(ClientServerTests.request("PJSIP/answer/300/60000", id: "unsure")))
            #expect(stages == [.notSent(OriginateStage.unconfirmedMessage)])
            try await client.waitUntilConnected()
            #expect(try await client.channelExists("unsure"), "Asterisk got it and is dialling")
        }
        #expect(server.originates.map(\.channelId) == ["unsure"])
        try await server.stop()
    }
}
