import AMI
import Synchronization
import Testing
@testable import Spooler
@testable import SpoolerAMI

/// The backend's reading of a connection that dropped during a call, with a scripted connection: what the
/// client reported is fixed, so only the backend's decision is under test.
@Suite("AMI backend: a call over a dropped connection")
struct DropAfterAnswerTests {
    /// Reports the given Originate stages, then answers every lookup with `channelUp` (nil: no such channel).
    final class ScriptedConnection: AMIConnection {
        let stages: [OriginateStage]
        let channelUp: AMIChannelStatus?
        let lookups = Mutex(0)
        init(stages: [OriginateStage], channelUp: AMIChannelStatus?) { (self.stages, self.channelUp) = (stages, channelUp) }

        var configuration: AMIConfiguration {
            AMIConfiguration(host: "127.0.0.1", port: 5038, username: "spoold", secret: AMISecret("secret"))
        }
        var isConnected: Bool { true }
        var serverVersion: String? { nil }
        func connectionStates() -> AsyncStream<Bool> { AsyncStream { $0.yield(true); $0.finish() } }
        func send(_ message: AMIMessage) async throws -> AMIMessage { AMIMessage(["Response": "Success"]) }
        func run() async throws {}
        func runOnce() async throws {}
        func waitUntilConnected() async throws {}
        func originate(_ request: OriginateRequest) -> AsyncStream<OriginateStage> {
            AsyncStream { continuation in
                for stage in stages { continuation.yield(stage) }
                continuation.finish()
            }
        }
        func channelExists(_ channelId: String) async throws -> Bool { channelUp != nil }
        func channelStatus(_ channelId: String) async throws -> AMIChannelStatus? {
            lookups.withLock { $0 += 1 }
            return channelUp
        }
        func hangupEvent(of uniqueid: String) async -> AsyncStream<AMIMessage> { AsyncStream { $0.finish() } }
    }

    static let request = CallRequest(channel: "PJSIP/100", target: .application(name: "Playback", data: "hello"),
                                     timeout: .seconds(30), callerID: nil, account: nil, variables: [], codecs: ["slin"],
                                     earlyMedia: false, channelId: "spoold-x-1-1")

    static func stages(after script: [OriginateStage]) async -> (stages: [CallStage], lookups: Int) {
        let connection = ScriptedConnection(stages: script, channelUp: nil)
        let backend = AMIBackend(client: connection, pollInterval: .milliseconds(1), lookupAttempts: 3)
        var seen: [CallStage] = []
        for await stage in backend.place(request) { seen.append(stage) }
        return (seen, connection.lookups.withLock { $0 })
    }

    @Test("Answered, then the connection dropped and the call was gone on return: a failed attempt (contract §3)")
    func answeredThenGone() async {
        let (stages, lookups) = await Self.stages(after: [.queued, .answered(channel: "PJSIP/100-00000001", uniqueid: "spoold-x-1-1"),
                                                          .connectionLost(afterAnswer: true)])
        #expect(stages == [.placed, .answered(channel: "PJSIP/100-00000001"), .failed(reason: 0, text: "connection lost")])
        #expect(lookups == 1, "asked once, after reconnecting")
    }

    @Test("Queued but never answered, then gone on return: a failed attempt (connection lost)")
    func queuedThenGone() async {
        let (stages, _) = await Self.stages(after: [.queued, .connectionLost(afterAnswer: false)])
        #expect(stages == [.placed, .failed(reason: 0, text: "connection lost")])
    }
}
