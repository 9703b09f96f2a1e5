import CallFile
import Testing
@testable import Spooler

@Suite("Building the request from a call file")
struct CallRequestTests {
    func parse(_ text: String) -> CallFile {
        CallFileParser.parse(Array(text.utf8), path: "t.call").file
    }

    @Test("Variables: one per name, the last Set wins, AST_OUTGOING_ATTEMPT overrides a Set of it")
    func variables() throws {
        let file = parse("""
            Channel: Sim/answer
            Application: Playback
            Set: A=1
            Set: B=2
            Set: AST_OUTGOING_ATTEMPT=99
            Setvar: A=3

            """)
        let request = try #require(CallRequest(file: file, attempt: 2, channelId: "id"))
        #expect(request.variables.map(\.name) == ["A", "B", "AST_OUTGOING_ATTEMPT"])
        #expect(request.variables.map(\.value) == ["3", "2", "2"])
    }

    @Test("Application mode: early media never sent; dialplan mode: sent as the file says")
    func modes() throws {
        let app = try #require(CallRequest(file: parse("Channel: Sim/x\nApplication: Playback\nData: hello\nEarly_Media: yes\n"), attempt: 1, channelId: "i"))
        #expect(app.target == .application(name: "Playback", data: "hello"))
        #expect(!app.earlyMedia)
        let plan = try #require(CallRequest(file: parse("Channel: Sim/x\nContext: t\nExtension: s\nPriority: 2\nEarly_Media: yes\n"), attempt: 1, channelId: "i"))
        #expect(plan.target == .dialplan(context: "t", extension: "s", priority: 2))
        #expect(plan.earlyMedia)
    }

    @Test("WaitTime becomes the ring timeout; CallerID, Account and the final codecs pass through")
    func fields() throws {
        let file = parse("Channel: PJSIP/100@trunk\nApplication: Wait\nWaitTime: 7\nCallerID: \"A\" <1>\nAccount: acc\nCodecs: ulaw\n")
        let request = try #require(CallRequest(file: file, attempt: 1, channelId: "i"))
        #expect(request.channel == "PJSIP/100@trunk")
        #expect(request.timeout == .seconds(7))
        #expect(request.callerID == "\"A\" <1>")
        let normalised = try #require(CallRequest(file: parse("Channel: Sim/x\nApplication: Wait\nCallerID: \"Wakeup Svc\" <(555) 555-1234>\n"), attempt: 1, channelId: "i"))
        #expect(normalised.callerID == "\"Wakeup Svc\" <5555551234>")
        #expect(request.account == "acc")
        #expect(request.codecs == file.finalCodecs)
        #expect(request.codecs.first == "slin")
    }

    @Test("No CallerID or Account: left out")
    func omitted() throws {
        let request = try #require(CallRequest(file: parse("Channel: Sim/x\nApplication: Wait\n"), attempt: 1, channelId: "i"))
        #expect(request.callerID == nil)
        #expect(request.account == nil)
    }
}

@Suite("ChannelId")
struct ChannelIDTests {
    @Test("FNV-1a 64 matches the published test vectors")
    func fnv() {
        #expect(ChannelID.fnv1a64("") == 0xcbf2_9ce4_8422_2325)
        #expect(ChannelID.fnv1a64("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(ChannelID.fnv1a64("foobar") == 0x8594_4171_f739_67e8)
    }

    @Test("Recomputable from the file name and StartRetry, distinct per attempt, within Asterisk's 149 characters")
    func shape() {
        let id = ChannelID.make(fileName: "call-001.call", startEpoch: 1_795_364_223, attempt: 2)
        #expect(id == ChannelID.make(fileName: "call-001.call", startEpoch: 1_795_364_223, attempt: 2))
        #expect(id != ChannelID.make(fileName: "call-001.call", startEpoch: 1_795_364_223, attempt: 3))
        #expect(id != ChannelID.make(fileName: "call-002.call", startEpoch: 1_795_364_223, attempt: 2))
        #expect(id.hasPrefix("spoold-") && id.hasSuffix("-1795364223-2"))
        let long = ChannelID.make(fileName: String(repeating: "x", count: 255), startEpoch: Int64.max, attempt: Int.max)
        #expect(long.count <= 149)
    }

    @Test("The exact text: a call in flight across an upgrade is found by it, so it never changes")
    func exactText() {
        #expect(ChannelID.make(fileName: "call-001.call", startEpoch: 1_795_364_223, attempt: 2) == "spoold-69f43b6b58c8e1db-1795364223-2")
        // Sixteen hex digits always, leading zeros included; a negative epoch keeps its sign.
        #expect(ChannelID.make(fileName: "f-186.call", startEpoch: -5, attempt: 1) == "spoold-00c03a36d14afb71--5-1")
        #expect(ChannelID.make(fileName: "", startEpoch: Int64.min, attempt: Int.max)
                == "spoold-cbf29ce484222325-\(Int64.min)-\(Int.max)")
    }
}

@Suite("CallRequest.lastWins")
struct LastWinsTests {
    /// What the rule says, written the slow way: each name once, in the order of its first appearance,
    /// with its last value.
    static func expected(_ pairs: [(String, String)]) -> [String] {
        var names: [String] = []
        for (name, _) in pairs where !names.contains(name) { names.append(name) }
        return names.map { name in "\(name)=\(pairs.last { $0.0 == name }!.1)" }
    }

    @Test("Few and many variables give the same rule", arguments: [3, 16, 17, 40])
    func rule(count: Int) {
        let pairs = (0..<count).map { index in ("V\(index % 5)", "\(index)") } + [("LAST", "x"), ("V0", "again")]
        let kept = CallRequest.lastWins(pairs).map { "\($0.name)=\($0.value)" }
        #expect(kept == Self.expected(pairs))
        #expect(kept.first == "V0=again")
    }
}
