import SimulatedCalls
import AMI
import Foundation
import NIOCore

/// The calls the test server "dials": each follows its `CallOutcome` on the event loop.
extension ServerState {
    func after(milliseconds: Int, _ body: @escaping () -> Void) {
        guard milliseconds > 0 else {
            body()
            return
        }
        eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(milliseconds))) { body() }
    }

    func startCall(_ request: AMIMessage, actionID: String?, outcome: CallOutcome, timeout: Int) {
        var channel = makeChannel(for: request)
        channel.actionID = actionID
        addChannel(channel)
        after(milliseconds: outcome.responseDelayMilliseconds(originateTimeout: timeout)) { [self] in
            // Hung up by the test while ringing: its OriginateResponse has gone out already.
            guard channels[channel.uniqueid] != nil else { return }
            guard outcome.answers else {
                channels.removeValue(forKey: channel.uniqueid)
                broadcast(originateResponse(request, actionID: actionID, success: false, reason: outcome.reason,
                                            channel: request["Channel"] ?? "", uniqueid: request["ChannelId"] ?? "<unknown>"))
                return
            }
            channels[channel.uniqueid]?.answered = true
            broadcast(originateResponse(request, actionID: actionID, success: true, reason: 4,
                                        channel: channel.name, uniqueid: channel.uniqueid))
            after(milliseconds: outcome.talkMilliseconds) { [self] in
                hangUp(channel)
            }
        }
    }

    /// A synchronous Originate's call: it runs and hangs up, with no OriginateResponse.
    func answerWithoutEvent(_ request: AMIMessage, outcome: CallOutcome) {
        var channel = makeChannel(for: request)
        channel.answered = true
        addChannel(channel)
        after(milliseconds: outcome.talkMilliseconds) { [self] in
            hangUp(channel)
        }
    }

    private func makeChannel(for request: AMIMessage) -> LiveChannel {
        let number = nextChannelNumber()
        let hex = String(number, radix: 16)
        let name = "\(request["Channel"] ?? "")-\(String(repeating: "0", count: max(0, 8 - hex.count)))\(hex)"
        let uniqueid = request["ChannelId"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(startTime).\(number)"
        return LiveChannel(name: name, uniqueid: uniqueid, answered: false, request: request)
    }

    /// Ends a call once: a channel already hung up (by the test, or by its talk time) sends nothing more.
    /// A channel hung up while ringing (by the test) ends its Originate as Asterisk does: Hangup with the
    /// ringing state, then OriginateResponse Failure with Reason 1.
    func hangUp(_ channel: LiveChannel) {
        guard let channel = channels.removeValue(forKey: channel.uniqueid) else { return }
        let request = channel.request
        let (number, name) = Self.callerID(request["CallerID"])
        broadcast(AMIMessage([
            "Event": "Hangup", "Privilege": "call,all", "Channel": channel.name,
            "ChannelState": channel.answered ? "6" : "5", "ChannelStateDesc": channel.answered ? "Up" : "Ringing",
            "CallerIDNum": number, "CallerIDName": name,
            "ConnectedLineNum": "<unknown>", "ConnectedLineName": "<unknown>", "Language": "en",
            "AccountCode": request["Account"] ?? "",
            "Context": request["Context"] ?? "", "Exten": request["Exten"] ?? "", "Priority": request["Priority"] ?? "1",
            "Uniqueid": channel.uniqueid, "Linkedid": channel.uniqueid,
            "Cause": "16", "Cause-txt": "Normal Clearing",
        ]))
        if !channel.answered, let actionID = channel.actionID {
            broadcast(originateResponse(request, actionID: actionID, success: false, reason: 1,
                                        channel: request["Channel"] ?? "", uniqueid: channel.uniqueid))
        }
    }

    private func originateResponse(_ request: AMIMessage, actionID: String?, success: Bool, reason: Int,
                                   channel: String, uniqueid: String) -> AMIMessage {
        var event = AMIMessage(["Event": "OriginateResponse", "Privilege": "call,all"])
        if let actionID { event.append("ActionID", actionID) }
        event.append("Response", success ? "Success" : "Failure")
        event.append("Channel", channel)
        if let application = request["Application"], !application.isEmpty {
            event.append("Application", application)
            event.append("Data", request["Data"] ?? "")
        } else {
            event.append("Context", request["Context"] ?? "")
            event.append("Exten", request["Exten"] ?? "")
        }
        event.append("Reason", String(reason))
        event.append("Uniqueid", uniqueid)
        let (number, name) = Self.callerID(request["CallerID"])
        event.append("CallerIDNum", number)
        event.append("CallerIDName", name)
        return event
    }

    /// `"Name" <number>` into its parts, `<unknown>` for what is missing.
    static func callerID(_ value: String?) -> (number: String, name: String) {
        guard let value, !value.isEmpty else { return ("<unknown>", "<unknown>") }
        if let open = value.lastIndex(of: "<"), let close = value[open...].firstIndex(of: ">") {
            let number = String(value[value.index(after: open)..<close])
            let name = value[..<open].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return (number.isEmpty ? "<unknown>" : number, name.isEmpty ? "<unknown>" : name)
        }
        if value.allSatisfy({ $0.isNumber || $0 == "+" || $0 == "*" || $0 == "#" }) { return (value, "<unknown>") }
        return ("<unknown>", value)
    }
}

