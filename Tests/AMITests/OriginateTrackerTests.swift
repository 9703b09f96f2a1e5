import NIOCore
import Testing
@testable import AMI

@Suite struct OriginateTrackerTests {
    typealias Tracker = OriginateTracker<Int>
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func tracker(_ ids: Int...) -> Tracker {
        var tracker = Tracker()
        for id in ids {
            tracker.sent(actionID: "a\(id)", channelId: "c\(id)", subscriber: id,
                         responseDeadline: start + .seconds(10), resultWindow: .seconds(40))
        }
        return tracker
    }

    static let queued = AMIMessage(["Response": "Success", "ActionID": "a1", "Message": "Originate successfully queued"])

    static func originateResponse(_ response: String, reason: Int, actionID: String = "a1") -> AMIMessage {
        AMIMessage(["Event": "OriginateResponse", "ActionID": actionID, "Response": response,
                    "Channel": "PJSIP/x-00000001", "Reason": String(reason), "Uniqueid": "c1"])
    }

    static let hangup = AMIMessage(["Event": "Hangup", "Channel": "PJSIP/x-00000001", "Uniqueid": "c1", "Cause": "16", "Cause-txt": "Normal Clearing"])

    func stages(_ updates: [Tracker.Update]) -> [OriginateStage] { updates.map(\.stage) }

    @Test func answeredCallEndsWithItsHangup() {
        var tracker = tracker(1)
        #expect(tracker.response(Self.queued, actionID: "a1", now: start)?.stage == .queued)
        #expect(stages(tracker.originateResponse(Self.originateResponse("Success", reason: 4), actionID: "a1")) == [.answered(channel: "PJSIP/x-00000001", uniqueid: "c1")])
        #expect(tracker.expire(now: start + .hours(10)).isEmpty, "an answered call has no deadline")
        #expect(tracker.hangup(Self.hangup)?.stage == .hungUp(cause: 16, causeText: "Normal Clearing"))
        #expect(tracker.count == 0)
    }

    @Test(arguments: [0, 1, 3, 5, 8])
    func failureEndsWithItsReason(reason: Int) {
        var tracker = tracker(1)
        _ = tracker.response(Self.queued, actionID: "a1", now: start)
        #expect(stages(tracker.originateResponse(Self.originateResponse("Failure", reason: reason), actionID: "a1")) == [.failed(reason: reason, channel: "PJSIP/x-00000001")])
        #expect(tracker.count == 0)
        #expect(tracker.hangup(Self.hangup) == nil)
    }

    @Test func errorResponseIsARejection() {
        var tracker = tracker(1)
        let error = AMIMessage(["Response": "Error", "ActionID": "a1", "Message": "Extension does not exist."])
        #expect(tracker.response(error, actionID: "a1", now: start)?.stage == .rejected("Extension does not exist."))
        #expect(tracker.count == 0)
    }

    @Test func hangupOvertakingTheOriginateResponseIsKept() {
        var tracker = tracker(1)
        _ = tracker.response(Self.queued, actionID: "a1", now: start)
        #expect(tracker.hangup(Self.hangup) == nil)
        #expect(stages(tracker.originateResponse(Self.originateResponse("Success", reason: 4), actionID: "a1")) == [
            .answered(channel: "PJSIP/x-00000001", uniqueid: "c1"), .hungUp(cause: 16, causeText: "Normal Clearing"),
        ])
        #expect(tracker.count == 0)
    }

    @Test func connectionLossReportsHowFarEachGot() {
        var tracker = tracker(1, 2, 3)
        _ = tracker.response(Self.queued, actionID: "a1", now: start)
        _ = tracker.response(AMIMessage(["Response": "Success", "ActionID": "a2"]), actionID: "a2", now: start)
        _ = tracker.originateResponse(Self.originateResponse("Success", reason: 4, actionID: "a2"), actionID: "a2")
        let lost = Dictionary(uniqueKeysWithValues: tracker.connectionLost().map { ($0.subscriber, $0.stage) })
        #expect(lost == [
            1: .connectionLost(afterAnswer: false),
            2: .connectionLost(afterAnswer: true),
            3: .notSent("connection lost before Asterisk confirmed the Originate"),
        ])
        #expect(tracker.count == 0)
    }

    @Test func unansweredEntriesExpire() {
        var tracker = tracker(1, 2)
        _ = tracker.response(Self.queued, actionID: "a1", now: start)
        // a2 never got its Response (due at +10 s); a1 was queued at start, result due at +40 s.
        #expect(tracker.expire(now: start + .seconds(9)).isEmpty)
        #expect(tracker.expire(now: start + .seconds(11)).map(\.subscriber) == [2])
        #expect(tracker.expire(now: start + .seconds(39)).isEmpty)
        #expect(stages(tracker.expire(now: start + .seconds(41))) == [.noResponse])
        #expect(tracker.count == 0)
    }

    @Test func othersEventsAndUnknownIdsAreIgnored() {
        var tracker = tracker(1)
        #expect(tracker.originateResponse(Self.originateResponse("Success", reason: 4, actionID: "zz"), actionID: "zz").isEmpty)
        #expect(tracker.hangup(AMIMessage(["Event": "Hangup", "Uniqueid": "other"])) == nil)
        #expect(tracker.response(Self.queued, actionID: "zz", now: start) == nil)
        #expect(tracker.count == 1)
    }

    @Test func removingForgetsBothIndexes() {
        var tracker = tracker(1)
        tracker.remove("a1")
        #expect(tracker.count == 0)
        #expect(tracker.hangup(Self.hangup) == nil)
    }
}
