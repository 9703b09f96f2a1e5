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
        let channel = makeChannel(for: request)
        channels[channel.uniqueid] = channel
        let up = channels.count
        peakChannels.withLockedValue { $0 = max($0, up) }
        after(milliseconds: outcome.responseDelayMilliseconds(originateTimeout: timeout)) { [self] in
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
                hangUp(channel, request: request)
            }
        }
    }

    /// A synchronous Originate's call: it runs and hangs up, with no OriginateResponse.
    func answerWithoutEvent(_ request: AMIMessage, outcome: CallOutcome) {
        var channel = makeChannel(for: request)
        channel.answered = true
        channels[channel.uniqueid] = channel
        after(milliseconds: outcome.talkMilliseconds) { [self] in
            hangUp(channel, request: request)
        }
    }

    private func makeChannel(for request: AMIMessage) -> LiveChannel {
        let number = nextChannelNumber()
        let hex = String(number, radix: 16)
        let name = "\(request["Channel"] ?? "")-\(String(repeating: "0", count: max(0, 8 - hex.count)))\(hex)"
        let uniqueid = request["ChannelId"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(startTime).\(number)"
        return LiveChannel(name: name, uniqueid: uniqueid, answered: false)
    }

    private func hangUp(_ channel: LiveChannel, request: AMIMessage) {
        channels.removeValue(forKey: channel.uniqueid)
        let (number, name) = Self.callerID(request["CallerID"])
        broadcast(AMIMessage([
            "Event": "Hangup", "Privilege": "call,all", "Channel": channel.name,
            "ChannelState": "6", "ChannelStateDesc": "Up",
            "CallerIDNum": number, "CallerIDName": name,
            "ConnectedLineNum": "<unknown>", "ConnectedLineName": "<unknown>", "Language": "en",
            "AccountCode": request["Account"] ?? "",
            "Context": request["Context"] ?? "", "Exten": request["Exten"] ?? "", "Priority": request["Priority"] ?? "1",
            "Uniqueid": channel.uniqueid, "Linkedid": channel.uniqueid,
            "Cause": "16", "Cause-txt": "Normal Clearing",
        ]))
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

