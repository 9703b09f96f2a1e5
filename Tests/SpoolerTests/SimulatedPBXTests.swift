import SimulatedCalls
import Testing
@testable import Spooler

@Suite("Simulated PBX")
struct SimulatedPBXTests {
    static func request(_ channel: String, timeout: Duration = .seconds(45), id: String = "id-1") -> CallRequest {
        CallRequest(channel: channel, target: .application(name: "Wait", data: ""), timeout: timeout, callerID: nil,
                    account: nil, variables: [], codecs: ["slin"], earlyMedia: false, channelId: id)
    }

    static func stages(_ stream: AsyncStream<CallStage>) async -> [CallStage] {
        var result: [CallStage] = []
        for await stage in stream { result.append(stage) }
        return result
    }

    @Test("Each outcome gives its reason code", arguments: [
        ("Sim/busy", 5), ("Sim/congestion", 8), ("Sim/failure", 0), ("Sim/noanswer/0", 3),
    ])
    func failures(channel: String, reason: Int) async {
        let pbx = SimulatedPBX(clock: ManualSpoolClock(now: SpoolInstant(seconds: 0)))
        let stages = await Self.stages(pbx.place(Self.request(channel)))
        #expect(stages == [.placed, .failed(reason: reason, text: ReasonText.text(for: reason))])
    }

    @Test("Sim/answer and any other channel answer and hang up at once", arguments: ["Sim/answer", "PJSIP/100", "Sim/unknown"])
    func answers(channel: String) async {
        let pbx = SimulatedPBX(clock: ManualSpoolClock(now: SpoolInstant(seconds: 0)))
        let stages = await Self.stages(pbx.place(Self.request(channel)))
        #expect(stages == [.placed, .answered(channel: channel), .hungUp])
    }

    @Test("Ring and talk times come from the channel; noanswer rings for the timeout")
    func plans() {
        func plan(_ channel: String, timeout: Duration = .seconds(45)) -> (CallOutcome.Kind?, Duration, Duration) {
            let plan = SimulatedPBX.plan(for: Self.request(channel, timeout: timeout))
            return (plan.outcome.kind, plan.ring, plan.talk)
        }
        #expect(plan("Sim/answer/100/2000") == (.answer, .milliseconds(100), .seconds(2)))
        #expect(plan("Sim/noanswer", timeout: .seconds(7)) == (.noanswer, .seconds(7), .zero))
        #expect(plan("Sim/noanswer/250") == (.noanswer, .milliseconds(250), .zero))
        #expect(plan("Sim/busy/x") == (.busy, .zero, .zero))
        // Only Sim/ channels follow the convention; anything else answers and hangs up at once.
        #expect(plan("PJSIP/busy/100") == (nil, .zero, .zero))
    }

    @Test("hangUp (spoold cancel) ends a call early: a hangup once answered, reason 1 while ringing",
          .timeLimit(.minutes(1)), arguments: [true, false])
    func hangUp(answered: Bool) async throws {
        let pbx = SimulatedPBX(clock: ManualSpoolClock(now: SpoolInstant(seconds: 100)))
        let channel = answered ? "Sim/answer/0/60000" : "Sim/noanswer/60000"
        var stages = pbx.place(Self.request(channel, timeout: .seconds(90), id: "cut")).makeAsyncIterator()
        #expect(await stages.next() == .placed)
        if answered { #expect(await stages.next() == .answered(channel: channel)) }
        #expect(await pbx.channelExists("cut") == true)
        try await pbx.hangUp(channelId: "cut")
        #expect(await stages.next() == (answered ? .hungUp : .failed(reason: 1, text: ReasonText.text(for: 1))))
        #expect(await stages.next() == nil)
        #expect(await pbx.channelExists("cut") == false)
        try await pbx.hangUp(channelId: "cut")  // gone already: no error
    }

    @Test("A talking call exists until it hangs up, on the injected clock")
    func talkingCallExists() async {
        let clock = ManualSpoolClock(now: SpoolInstant(seconds: 100))
        let pbx = SimulatedPBX(clock: clock)
        var stages = pbx.place(Self.request("Sim/answer/1000/5000", id: "talk")).makeAsyncIterator()
        #expect(await stages.next() == .placed)
        #expect(await pbx.channelExists("talk") == true)
        clock.advance(by: .seconds(1))
        #expect(await stages.next() == .answered(channel: "Sim/answer/1000/5000"))
        clock.advance(by: .seconds(5))
        #expect(await stages.next() == .hungUp)
        #expect(await stages.next() == nil)
        #expect(await pbx.channelExists("talk") == false)
    }
}
