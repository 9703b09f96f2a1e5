import AMI
import Testing
@testable import Spooler
@testable import SpoolerAMI

/// The backend's reading of each client stage (contract §3), as a pure function: both the stream path and
/// the one called on the client's event loop go through it.
@Suite("AMI backend: what each client stage means for the engine")
struct StageReadingTests {
    static let lost = CallStage.failed(reason: 0, text: "connection lost")

    static let table: [(stage: OriginateStage, answeredBefore: Bool, reading: AMIBackend.StageReading)] = [
        (.queued, false, .report(.placed)),
        (.answered(channel: "PJSIP/100-00000001", uniqueid: "id-1"), false, .report(.answered(channel: "PJSIP/100-00000001"))),
        (.hungUp(cause: 16, causeText: "Normal Clearing"), true, .report(.hungUp)),
        (.failed(reason: 5, channel: "PJSIP/100"), false, .report(.failed(reason: 5, text: "Remote end is Busy"))),
        (.failed(reason: 0, channel: ""), false, .report(.failed(reason: 0, text: ReasonText.text(for: 0)))),
        (.rejected("Extension does not exist."), false, .report(.rejected("Extension does not exist."))),
        (.rejected(AMIBackend.shuttingDown), false, .report(.notPlaced(AMIBackend.shuttingDown))),
        (.notSent("not connected to AMI"), false, .report(.notPlaced("not connected to AMI"))),
        (.notSent(OriginateStage.unconfirmedMessage), false,
         .settle(answered: false, ifGone: .notPlaced("\(OriginateStage.unconfirmedMessage), and Asterisk has no such call"))),
        (.connectionLost(afterAnswer: false), false, .settle(answered: false, ifGone: lost)),
        (.connectionLost(afterAnswer: false), true, .settle(answered: true, ifGone: lost)),
        (.connectionLost(afterAnswer: true), false, .settle(answered: true, ifGone: lost)),
        (.noResponse, false, .report(.failed(reason: 0, text: "no response from Asterisk within WaitTime"))),
    ]

    @Test("Each stage, answered before or not", arguments: 0..<table.count)
    func reading(row: Int) {
        let (stage, answeredBefore, reading) = Self.table[row]
        #expect(AMIBackend.reading(of: stage, answeredBefore: answeredBefore) == reading, "\(stage), answered before: \(answeredBefore)")
    }

    /// A connection that hands its script to `onStage` at once, on the caller's thread, as `AMIClient` does
    /// on its loop (not through the protocol's stream-following default).
    final class CallingBackConnection: AMIConnection {
        let script: [OriginateStage]
        init(_ script: [OriginateStage]) { self.script = script }
        var configuration: AMIConfiguration {
            AMIConfiguration(host: "127.0.0.1", port: 5038, username: "spoold", secret: AMISecret("secret"))
        }
        var isConnected: Bool { true }
        var serverVersion: String? { nil }
        func connectionStates() -> AsyncStream<Bool> { AsyncStream { $0.yield(true); $0.finish() } }
        func send(_ message: AMIMessage) async throws -> AMIMessage { AMIMessage(["Response": "Error", "Message": "No such channel"]) }
        func run() async throws {}
        func runOnce() async throws {}
        func waitUntilConnected() async throws {}
        func originate(_ request: OriginateRequest) -> AsyncStream<OriginateStage> {
            Issue.record("the engine's path must not ask for a stream")
            return AsyncStream { $0.finish() }
        }
        func originate(_ request: OriginateRequest, onStage: @escaping @Sendable (OriginateStage) -> Void) {
            for stage in script { onStage(stage) }
        }
        func channelExists(_ channelId: String) async throws -> Bool { false }
        func channelStatus(_ channelId: String) async throws -> AMIChannelStatus? { nil }
        func hangupEvent(of uniqueid: String) async -> AsyncStream<AMIMessage> { AsyncStream { $0.finish() } }
    }

    enum Heard: Equatable, Sendable {
        case stage(CallStage?)
        case over
    }

    static func heard(_ script: [OriginateStage]) async -> [Heard] {
        let backend = AMIBackend(client: CallingBackConnection(script), pollInterval: .milliseconds(1), lookupAttempts: 2)
        let (stream, continuation) = AsyncStream.makeStream(of: Heard.self)
        backend.place(DropAfterAnswerTests.request, whenOver: { continuation.yield(.over) }, report: { stage in
            continuation.yield(.stage(stage))
            if stage == nil { continuation.finish() }
        })
        var heard: [Heard] = []
        for await item in stream { heard.append(item) }
        return heard
    }

    @Test("Reported as they come, then the server's slot is freed, then the end")
    func reportedInOrderThenOver() async {
        #expect(await Self.heard([.queued, .answered(channel: "PJSIP/100-1", uniqueid: "x"), .hungUp(cause: 16, causeText: nil)])
                == [.stage(.placed), .stage(.answered(channel: "PJSIP/100-1")), .stage(.hungUp), .over, .stage(nil)])
        #expect(await Self.heard([.rejected("Invalid channel")]) == [.stage(.rejected("Invalid channel")), .over, .stage(nil)])
    }

    @Test("A drop after answer is settled by asking Asterisk (gone: a failed attempt), then over")
    func dropAfterAnswerIsSettled() async {
        #expect(await Self.heard([.queued, .answered(channel: "PJSIP/100-1", uniqueid: "x"), .connectionLost(afterAnswer: false)])
                == [.stage(.placed), .stage(.answered(channel: "PJSIP/100-1")), .stage(Self.lost), .over, .stage(nil)])
    }
}
