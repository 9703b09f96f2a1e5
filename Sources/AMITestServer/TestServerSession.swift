import SimulatedCalls
import AMI
import Foundation
import NIOCore

/// One client connection to the test server: banner, login, the actions spoold uses, and events.
final class TestServerSession: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let banner = "Asterisk Call Manager/11.0.0\r\n"

    /// Which event classes the session takes (the Login `Events` header).
    enum EventSelection: Equatable {
        case all
        case none
        case classes(Set<String>)
    }

    let state: ServerState
    private var context: ChannelHandlerContext?
    /// Asterisk reads a request line into a 1024-byte buffer, CRLF included: 1022 bytes before the CRLF.
    /// (A bare-LF line of 1023 bytes, which Asterisk would also read, is refused here: clients send CRLF.)
    static let maximumLineLength = 1022
    private var parser = AMIFrameParser(expectsBanner: false, maximumLineLength: TestServerSession.maximumLineLength,
                                        maximumHeaderCount: 128)
    private var received = ByteBuffer()
    /// A line of the message being read was too long: its bytes are dropped up to its LF, the rest of the
    /// message is read, and the whole message is answered with Asterisk's error instead of being run.
    private var messageHadLongLine = false
    private var skippingLongLine = false
    private(set) var connection = 0
    private var loggedIn = false
    private var challenge: String?
    private var events = EventSelection.all
    private var filters: [EventFilter] = []
    private var queuedOriginates = 0
    private var closing = false
    /// While handling a read, writes are flushed once at read-complete.
    private var inRead = false

    init(state: ServerState) {
        self.state = state
    }

    var behaviour: AMITestServerConfiguration.Behaviour { state.behaviour.withLockedValue { $0 } }

    // MARK: Channel events

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        connection = state.register(self)
        var buffer = context.channel.allocator.buffer(capacity: 32)
        buffer.writeString(Self.banner)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.unregister(self)
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        // A line may be split across reads; the parser consumes whole lines only, so the rest waits here.
        if received.readableBytes == 0 {
            received = incoming
        } else {
            received.writeBuffer(&incoming)
        }
        inRead = true
        defer {
            inRead = false
            received.discardReadBytes()
        }
        while !closing {
            if skippingLongLine {
                // The rest of an over-long line: dropped up to and with its LF.
                let view = received.readableBytesView
                guard let lf = view.firstIndex(of: UInt8(ascii: "\n")) else {
                    received.moveReaderIndex(to: received.writerIndex)
                    return
                }
                received.moveReaderIndex(forwardBy: lf - view.startIndex + 1)
                skippingLongLine = false
            }
            do {
                guard let frame = try parser.next(from: &received) else { return }
                guard case .message(let message) = frame else { continue }
                if messageHadLongLine {
                    // As Asterisk does: the message is not run; the error carries its ActionID if one was read.
                    messageHadLongLine = false
                    respond(message["ActionID"], error: "Failed to parse message: line too long")
                } else {
                    receive(message)
                }
            } catch AMIDecodingError.lineTooLong {
                messageHadLongLine = true
                skippingLongLine = true
            } catch {
                respond(nil, error: "Too many lines in message or allocation failure")
                close()
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func close() {
        guard !closing, let context else { return }
        closing = true
        context.flush()
        context.close(promise: nil)
    }

    // MARK: Actions

    private func receive(_ message: AMIMessage) {
        let behaviour = self.behaviour
        if loggedIn, behaviour.silentAfterLogin { return }
        guard behaviour.responseDelay > .zero else {
            handle(message, behaviour: behaviour)
            return
        }
        state.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(behaviour.responseDelay)) { [self] in
            handle(message, behaviour: behaviour)
        }
    }

    private func handle(_ message: AMIMessage, behaviour: AMITestServerConfiguration.Behaviour) {
        guard !closing else { return }
        let actionID = message["ActionID"]
        guard let action = message["Action"]?.lowercased(), !action.isEmpty else {
            respond(actionID, error: "Missing action in request")
            return
        }
        if action == "originate" {
            // Recorded whatever the answer, so tests can count every attempt that reached "Asterisk".
            state.record(message, connection: connection, keep: behaviour.recordOriginates)
        }
        if behaviour.shuttingDown {
            respond(actionID, error: "Asterisk is shutting down")
            return
        }
        if !loggedIn, !["login", "logoff", "challenge"].contains(action) {
            respond(actionID, error: "Permission denied")
            return
        }
        switch action {
        case "login": login(message, actionID: actionID)
        case "challenge": challenge(message, actionID: actionID)
        case "logoff":
            respond(actionID, ["Response": "Goodbye", "Message": "Thanks for all the fish."])
            close()
        case "ping":
            respond(actionID, ["Response": "Success", "Ping": "Pong", "Timestamp": Self.timestamp()])
        case "filter": filter(message, actionID: actionID, behaviour: behaviour)
        case "status": status(message, actionID: actionID)
        case "hangup": hangup(message, actionID: actionID)
        case "originate": originate(message, actionID: actionID, behaviour: behaviour)
        case "modulecheck": moduleCheck(message, actionID: actionID, behaviour: behaviour)
        default:
            respond(actionID, error: "Invalid/unknown command: \(message["Action"] ?? ""). Use Action: ListCommands to show available commands.")
        }
    }

    private func login(_ message: AMIMessage, actionID: String?) {
        if loggedIn {
            respond(actionID, ["Response": "Success", "Message": "Already authenticated"])
            return
        }
        let configuration = state.configuration
        let userMatches = message["Username"]?.lowercased() == configuration.username.lowercased()
        let secretMatches: Bool
        if message["AuthType"]?.lowercased() == "md5" {
            secretMatches = challenge.map {
                message["Key"] == AMIConnectionStateMachine.md5Key(challenge: $0, secret: configuration.secret)
            } ?? false
        } else {
            secretMatches = message["Secret"] == configuration.secret
        }
        guard userMatches, secretMatches else {
            // Asterisk answers a failed login only after a delay, then hangs up.
            closing = true
            state.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(configuration.authenticationFailureDelay)) { [self] in
                closing = false
                respond(actionID, error: "Authentication failed")
                close()
            }
            return
        }
        loggedIn = true
        events = Self.eventSelection(message["Events"])
        respond(actionID, ["Response": "Success", "Message": "Authentication accepted"])
        sendEvent(AMIMessage([
            "Event": "FullyBooted", "Privilege": "system,all", "Uptime": "4", "LastReload": "4", "Status": "Fully Booted",
        ]))
    }

    private func challenge(_ message: AMIMessage, actionID: String?) {
        guard message["AuthType"]?.lowercased() == "md5" else {
            respond(actionID, error: "Must specify AuthType")
            return
        }
        // Made once per session and reused, as Asterisk does.
        let value = challenge ?? String(UInt32.random(in: 100_000_000...999_999_999))
        challenge = value
        respond(actionID, ["Response": "Success", "Challenge": value])
    }

    private func filter(_ message: AMIMessage, actionID: String?, behaviour: AMITestServerConfiguration.Behaviour) {
        guard behaviour.filterPermitted else {
            respond(actionID, error: "Permission denied")
            return
        }
        guard (message["Operation"] ?? "Add").lowercased() == "add", let filter = message["Filter"], !filter.isEmpty else {
            respond(actionID, error: "Unknown operation")
            return
        }
        filters.append(EventFilter(filter))
        respond(actionID, ["Response": "Success", "Message": "Filter Added Successfully"])
    }

    /// `Status` with `Channel:` finds the channel by name or Uniqueid; `No such channel` when gone.
    private func status(_ message: AMIMessage, actionID: String?) {
        let wanted = message["Channel"].flatMap { $0.isEmpty ? nil : $0 }
        let found: [ServerState.LiveChannel]
        if let wanted {
            guard let channel = state.channels[wanted] ?? state.channels.values.first(where: { $0.name == wanted }) else {
                respond(actionID, error: "No such channel")
                return
            }
            found = [channel]
        } else {
            found = Array(state.channels.values)
        }
        respond(actionID, ["Response": "Success", "EventList": "start", "Message": "Channel status will follow"])
        for channel in found {
            var event = AMIMessage(["Event": "Status", "Privilege": "Call"])
            if let actionID { event.append("ActionID", actionID) }
            event.append("Channel", channel.name)
            event.append("ChannelState", channel.answered ? "6" : "5")
            event.append("ChannelStateDesc", channel.answered ? "Up" : "Ringing")
            event.append("Uniqueid", channel.uniqueid)
            output(event)
            if channel.answered { _ = state.statusShownUp.withLockedValue { $0.insert(channel.uniqueid) } }
        }
        var complete = AMIMessage(["Event": "StatusComplete"])
        if let actionID { complete.append("ActionID", actionID) }
        complete.append("EventList", "Complete")
        complete.append("ListItems", String(found.count))
        complete.append("Items", String(found.count))
        output(complete)
    }

    /// `Hangup` with `Channel:` (a name or a Uniqueid, as Asterisk looks it up): recorded, then the channel
    /// ends as a far-end hangup does (Hangup event; OriginateResponse Failure, Reason 1, while ringing).
    private func hangup(_ message: AMIMessage, actionID: String?) {
        let wanted = message["Channel"] ?? ""
        state.hangupRequests.withLockedValue { $0.append(wanted) }
        guard !wanted.isEmpty else {
            respond(actionID, error: "No channel specified")
            return
        }
        guard let channel = state.channels[wanted] ?? state.channels.values.first(where: { $0.name == wanted }) else {
            respond(actionID, error: "No such channel")
            return
        }
        respond(actionID, ["Response": "Success", "Message": "Channel Hungup"])
        state.hangUp(channel)
    }

    private func originate(_ message: AMIMessage, actionID: String?, behaviour: AMITestServerConfiguration.Behaviour) {
        guard behaviour.originatePermitted else {
            respond(actionID, error: "Permission denied")
            return
        }
        if let error = OriginateChecks.error(for: message, systemPermitted: behaviour.systemPermitted) {
            if error == OriginateChecks.uniqueidTooLong {
                respondWithStrayLineFeed(actionID, error: error)
            } else {
                respond(actionID, error: error)
            }
            return
        }
        let outcome = CallOutcome(channel: message["Channel"] ?? "")
        let timeout = Int(message["Timeout"] ?? "") ?? 30_000
        guard OriginateChecks.isTrue(message["Async"]) else {
            syncOriginate(message, actionID: actionID, outcome: outcome, timeout: timeout)
            return
        }
        if behaviour.disconnectBeforeOriginateResponse {
            if !behaviour.withholdOriginateResults {
                state.startCall(message, actionID: actionID, outcome: outcome, timeout: timeout)
            }
            close()
            return
        }
        respond(actionID, ["Response": "Success", "Message": "Originate successfully queued"])
        if !behaviour.withholdOriginateResults {
            state.startCall(message, actionID: actionID, outcome: outcome, timeout: timeout)
        }
        queuedOriginates += 1
        if let limit = behaviour.disconnectAfterQueued, queuedOriginates >= limit { close() }
    }

    /// `ModuleCheck` answers `Response: Success` with an empty `Version` header (Asterisk no longer knows
    /// module revisions) when the module is loaded, else `Module not loaded`; the name may carry `.so`.
    private func moduleCheck(_ message: AMIMessage, actionID: String?, behaviour: AMITestServerConfiguration.Behaviour) {
        guard behaviour.systemPermitted else {
            respond(actionID, error: "Permission denied")
            return
        }
        var module = message["Module"] ?? ""
        if module.hasSuffix(".so") { module.removeLast(3) }
        if behaviour.loadedModules.contains(module) {
            respond(actionID, ["Response": "Success", "Version": ""])
        } else {
            respond(actionID, error: "Module not loaded")
        }
    }

    /// A synchronous Originate holds the session until answered or failed and sends no OriginateResponse.
    private func syncOriginate(_ message: AMIMessage, actionID: String?, outcome: CallOutcome, timeout: Int) {
        let delay = outcome.responseDelayMilliseconds(originateTimeout: timeout)
        state.after(milliseconds: delay) { [self] in
            if outcome.answers {
                respond(actionID, ["Response": "Success", "Message": "Originate successfully queued"])
                state.answerWithoutEvent(message, outcome: outcome)
            } else {
                respond(actionID, error: "Originate failed")
            }
            context?.flush()
        }
    }

    // MARK: Output

    func sendEvent(_ event: AMIMessage) {
        guard loggedIn, !closing, takes(event) else { return }
        output(event)
        if !inRead { context?.flush() }
    }

    private func takes(_ event: AMIMessage) -> Bool {
        switch events {
        case .none: return false
        case .all: break
        case .classes(let classes):
            let eventClass = event["Privilege"]?.split(separator: ",").first.map { String($0).lowercased() } ?? ""
            guard classes.contains(eventClass) else { return false }
        }
        // Filters here are plain substrings of a `Name: value` line (Asterisk takes regular expressions).
        guard !filters.isEmpty else { return true }
        return filters.contains { $0.matches(event) }
    }

    private func respond(_ actionID: String?, _ fields: KeyValuePairs<String, String>) {
        var message = AMIMessage()
        for (index, field) in fields.enumerated() {
            message.append(field.key, field.value)
            // ActionID goes right after Response, as in Asterisk.
            if index == 0, let actionID { message.append("ActionID", actionID) }
        }
        output(message)
        if !inRead { context?.flush() }
    }

    private func respond(_ actionID: String?, error: String) {
        respond(actionID, ["Response": "Error", "Message": error])
    }

    /// Asterisk's over-long ChannelId error carries an LF inside its Message line (reference §9.3).
    private func respondWithStrayLineFeed(_ actionID: String?, error: String) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 128)
        buffer.writeString("Response: Error\r\n")
        if let actionID { buffer.writeString("ActionID: \(actionID)\r\n") }
        buffer.writeString("Message: \(error)\n\r\n\r\n")
        context.write(wrapOutboundOut(buffer), promise: nil)
        if !inRead { context.flush() }
    }

    private func output(_ message: AMIMessage) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 256)
        do {
            try AMIMessageWriter.write(message, to: &buffer, enforceRequestLimits: false)
        } catch {
            // Values the client sent are echoed; one that cannot be framed is left out rather than sent broken.
            return
        }
        context.write(wrapOutboundOut(buffer), promise: nil)
    }

    static func eventSelection(_ header: String?) -> EventSelection {
        let value = (header ?? "").trimmingBlanks().lowercased()
        if value.isEmpty || ["on", "yes", "true", "y", "t", "all"].contains(value) { return .all }
        if ["off", "no", "false", "n", "f"].contains(value) { return .none }
        if let mask = Int(value) {
            let names = [(1, "system"), (2, "call"), (4, "log"), (8, "verbose"), (16, "command"), (32, "agent"),
                         (64, "user"), (128, "config"), (256, "dtmf"), (512, "reporting"), (1024, "cdr"),
                         (2048, "dialplan"), (4096, "originate"), (8192, "agi"), (32768, "cc"), (65536, "aoc"),
                         (131072, "test"), (262144, "security"), (1 << 30, "message")]
            let classes = Set(names.filter { mask & $0.0 != 0 }.map(\.1))
            return classes.isEmpty ? .none : .classes(classes)
        }
        let classes = Set(value.split(separator: ",").map { String($0).trimmingBlanks() })
        return classes.contains("all") ? .all : .classes(classes)
    }

    static func timestamp() -> String {
        let now = Date().timeIntervalSince1970
        let seconds = Int(now)
        let micros = Int((now - Double(seconds)) * 1_000_000)
        let padded = String(micros)
        return "\(seconds).\(String(repeating: "0", count: max(0, 6 - padded.count)))\(padded)"
    }
}


/// One `Filter` of a session. `Name: text` (the usual form) is checked against that header's value
/// without building lines; anything else as a substring of any `Name: value` line.
struct EventFilter {
    let text: String
    let name: Substring?
    let valueText: Substring

    init(_ text: String) {
        self.text = text
        if let separator = text.range(of: ": ") {
            name = text[..<separator.lowerBound]
            valueText = text[separator.upperBound...]
        } else {
            name = nil
            valueText = Substring(text)
        }
    }

    func matches(_ event: AMIMessage) -> Bool {
        event.headers.contains { header in
            if let name {
                // The name may sit at the end of a longer one, as a substring of the line would allow.
                return header.name.hasSuffix(name) && header.value.contains(valueText)
            }
            return "\(header.name): \(header.value)".contains(text)
        }
    }
}

extension String {
    func trimmingBlanks() -> String {
        trimmingCharacters(in: .whitespaces)
    }
}
