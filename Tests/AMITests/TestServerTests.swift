@testable import SimulatedCalls
import AMI
import AMITestServer
import NIOCore
import NIOPosix
import Testing

/// The test server spoken to directly, for the answers the client never provokes.
@Suite struct TestServerTests {
    /// Sends raw actions and collects what comes back until `count` messages (after the banner) arrived.
    static func exchange(_ server: AMITestServer, _ requests: [AMIMessage], expecting count: Int) async throws -> (String, [AMIMessage]) {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: server.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(AMIFrameDecoder()))
                    return try NIOAsyncChannel<AMIFrame, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var buffer = ByteBuffer()
            for request in requests { try AMIMessageWriter.write(request, to: &buffer, enforceRequestLimits: false) }
            try await outbound.write(buffer)
            var banner = ""
            var messages: [AMIMessage] = []
            for try await frame in inbound {
                switch frame {
                case .banner(let line): banner = line
                case .message(let message): messages.append(message)
                }
                if messages.count == count { break }
            }
            return (banner, messages)
        }
    }

    static let login = AMIMessage(["Action": "Login", "Username": "SPOOLD", "Secret": "secret", "ActionID": "l"])

    @Test func beforeLoginOnlyLoginLogoffAndChallenge() async throws {
        let server = try await AMITestServer.start()
        let (banner, replies) = try await Self.exchange(server, [
            AMIMessage(["Action": "Ping", "ActionID": "p"]),
            AMIMessage(["Action": "Originate", "Channel": "PJSIP/answer", "ActionID": "o"]),
            AMIMessage(["Action": "Challenge", "AuthType": "plain", "ActionID": "c"]),
            AMIMessage(["Action": "Logoff", "ActionID": "g"]),
        ], expecting: 4)
        #expect(banner == "Asterisk Call Manager/11.0.0")
        #expect(replies == [
            AMIMessage(["Response": "Error", "ActionID": "p", "Message": "Permission denied"]),
            AMIMessage(["Response": "Error", "ActionID": "o", "Message": "Permission denied"]),
            AMIMessage(["Response": "Error", "ActionID": "c", "Message": "Must specify AuthType"]),
            AMIMessage(["Response": "Goodbye", "ActionID": "g", "Message": "Thanks for all the fish."]),
        ])
        #expect(server.originates.count == 1, "even refused Originates are recorded")
        try await server.stop()
    }

    @Test func loginEventsAndRepeatedLogin() async throws {
        let server = try await AMITestServer.start()
        let (_, replies) = try await Self.exchange(server, [
            Self.login,
            Self.login,
            AMIMessage(["Action": "Ping", "ActionID": "p"]),
        ], expecting: 4)
        #expect(replies[0] == AMIMessage(["Response": "Success", "ActionID": "l", "Message": "Authentication accepted"]))
        #expect(replies[1]["Event"] == "FullyBooted")
        #expect(replies[2]["Message"] == "Already authenticated")
        #expect(replies[3]["Ping"] == "Pong")
        try await server.stop()
    }

    @Test func eventsOffReceivesNoOriginateResponseAndSyncOriginateAnswersDirectly() async throws {
        let server = try await AMITestServer.start()
        var login = Self.login
        login.append("Events", "off")
        let (_, replies) = try await Self.exchange(server, [
            login,
            AMIMessage(["Action": "Originate", "Channel": "Local/busy", "Context": "t", "Exten": "s", "Priority": "1", "ActionID": "sync"]),
            AMIMessage(["Action": "Originate", "Channel": "Local/answer", "Context": "t", "Exten": "s", "Priority": "1", "Async": "yes", "ActionID": "async"]),
            AMIMessage(["Action": "Ping", "ActionID": "p"]),
        ], expecting: 4)
        #expect(replies.map { $0["ActionID"] } == ["l", "sync", "async", "p"])
        #expect(replies[1]["Message"] == "Originate failed")
        #expect(replies[2]["Message"] == "Originate successfully queued")
        try await server.stop()
    }

    @Test func statusListsAChannelByUniqueidAndName() async throws {
        let server = try await AMITestServer.start()
        let (_, replies) = try await Self.exchange(server, [
            Self.login,
            AMIMessage(["Action": "Originate", "Channel": "PJSIP/answer/0/60000", "Context": "t", "Exten": "s", "Priority": "1",
                        "Async": "true", "ChannelId": "up-1", "ActionID": "o"]),
            AMIMessage(["Action": "Status", "Channel": "up-1", "ActionID": "s1"]),
            AMIMessage(["Action": "Status", "Channel": "PJSIP/answer/0/60000-00000001", "ActionID": "s2"]),
            AMIMessage(["Action": "Status", "Channel": "gone", "ActionID": "s3"]),
        ], expecting: 11)
        let byAction = replies.filter { $0["Response"] != nil && $0["Event"] == nil }
        #expect(byAction.map { $0["ActionID"] } == ["l", "o", "s1", "s2", "s3"])
        #expect(byAction[2]["Message"] == "Channel status will follow")
        #expect(byAction[3]["Message"] == "Channel status will follow")
        #expect(byAction[4] == AMIMessage(["Response": "Error", "ActionID": "s3", "Message": "No such channel"]))
        #expect(replies.filter { $0["Event"] == "Status" }.map { $0["Uniqueid"] } == ["up-1", "up-1"])
        #expect(await server.channelIsUp("up-1"))
        try await server.stop()
    }

    @Test func outcomeConvention() {
        #expect(CallOutcome(channel: "PJSIP/answer").reason == 4)
        #expect(CallOutcome(channel: "Local/busy/200").ringMilliseconds == 200)
        #expect(CallOutcome(channel: "SIP/congestion").reason == 8)
        #expect(CallOutcome(channel: "X/failure").reason == 0)
        let noanswer = CallOutcome(channel: "PJSIP/noanswer/500")
        #expect(noanswer.reason == 3)
        #expect(noanswer.responseDelayMilliseconds(originateTimeout: 30_000) == 500)
        #expect(noanswer.responseDelayMilliseconds(originateTimeout: 100) == 100)
        #expect(CallOutcome(channel: "PJSIP/noanswer").responseDelayMilliseconds(originateTimeout: 2_000) == 2_000)
        let answer = CallOutcome(channel: "PJSIP/answer/10/2000")
        #expect(answer.ringMilliseconds == 10 && answer.talkMilliseconds == 2_000)
        let other = CallOutcome(channel: "PJSIP/100")
        #expect(other.kind == nil && other.answers && other.responseDelayMilliseconds(originateTimeout: 30_000) == 0)
    }

    @Test("Fields as a split on / keeping empty fields reads them", arguments: [
        ("Sim/answer", CallOutcome.Kind.answer, nil, 0), ("Sim/answer/", .answer, nil, 0), ("Sim/answer//7", .answer, nil, 7),
        ("Sim/busy/1/2/3", .busy, 1, 2), ("Sim/noanswer/-5/-6", .noanswer, 0, 0), ("Sim/failure/x/9", .failure, nil, 9),
        ("/congestion/4", .congestion, 4, 0), ("Local/answer/+3", .answer, 3, 0),
        // Not ASCII: a `/` with a combining mark is one Character, not a separator, as a split sees it.
        ("Sim/answer/5\u{301}/7", .answer, nil, 7), ("Sïm/busy/\u{301}/2", nil, nil, 0), ("Sïm/busy/3/é", .busy, 3, 0),
    ] as [(String, CallOutcome.Kind?, Int?, Int)])
    func fields(channel: String, kind: CallOutcome.Kind?, ring: Int?, talk: Int) {
        let outcome = CallOutcome(channel: channel)
        #expect(outcome.kind == kind && outcome.ringMilliseconds == ring && outcome.talkMilliseconds == talk)
    }

    @Test("An ASCII channel read as bytes gives what the reading by Characters gives, for any mix of the convention's pieces")
    func bytesAgreeWithCharacters() {
        let pieces = ["/", "//", "Sim", "answer", "busy", "noanswer", "congestion", "failure", "Answer", "0", "7", "-3", "+12",
                      "-", "+", "99999999999999999999", "-9223372036854775808", "9223372036854775807", "9223372036854775808",
                      " 5", "5 ", "x", ""]
        var generator = SystemRandomNumberGenerator()
        var checked = 0
        for _ in 0..<20_000 {
            let channel = (0..<Int.random(in: 0...7, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let reference = CallOutcome(byCharacters: channel)
            let read = CallOutcome(channel: channel)
            #expect(read == reference, "\(channel)")
            if read != reference { break }
            checked += 1
        }
        #expect(checked == 20_000)
        for text in ["0", "-0", "+0", "12", "-12", "+12", "", "-", "+", "+-1", "1-", "9223372036854775807", "-9223372036854775808",
                     "9223372036854775808", "-9223372036854775809", "007"] {
            #expect(Array(text.utf8).withUnsafeBufferPointer { CallOutcome.decimal($0) } == Int(text), "\(text)")
        }
    }

    @Test("Anything but an exact outcome word is an instant answer", arguments: ["answer", "Sim", "Sim/", "Sim/Answer", "Sim/answerx", "Sim/ answer", "Sim/answer\u{301}/5"])
    func notAnOutcome(channel: String) {
        let outcome = CallOutcome(channel: channel)
        #expect(outcome.kind == nil && outcome.ringMilliseconds == nil && outcome.talkMilliseconds == 0)
    }
}
