import AMI
import Spooler
import Synchronization

/// Calls placed through Asterisk's manager interface. Maps the engine's request onto an async Originate
/// and the client's stages onto the engine's, as contract §3 says.
public final class AMIBackend: CallBackend {
    /// Asterisk's reply to every action while it stops: the call was never placed, so it is not an attempt.
    static let shuttingDown = "Asterisk is shutting down"

    /// TCP or HTTP: the engine does not know which.
    private let client: any AMIConnection
    /// How often an adopted call, or one whose connection dropped, is looked up until it is gone.
    private let pollInterval: Duration
    /// How often spoold asks again whether a call survived a dropped connection before giving up on it.
    private let lookupAttempts: Int
    /// Channels a lookup found Up. The recovery check sees an adopted call answered; if it hangs up before
    /// its follower's first look, the call was still answered (and must not be dialled again).
    private let seenAnswered = Mutex<Set<String>>([])

    public init(client: any AMIConnection, pollInterval: Duration = .seconds(1), lookupAttempts: Int = 30) {
        self.client = client
        self.pollInterval = pollInterval
        self.lookupAttempts = lookupAttempts
    }

    public var isReady: Bool { client.isConnected }

    public static func originate(for request: CallRequest) -> OriginateRequest {
        var originate = OriginateRequest(channel: request.channel, timeout: request.timeout, channelId: request.channelId)
        switch request.target {
        case .application(let name, let data):
            originate.application = name
            originate.data = data
        case .dialplan(let context, let exten, let priority):
            originate.context = context.isEmpty ? nil : context
            originate.exten = exten.isEmpty ? nil : exten
            originate.priority = priority
        }
        originate.callerID = request.callerID
        originate.account = request.account
        originate.variables = request.variables.map { AMIVariable(name: $0.name, value: $0.value) }
        originate.codecs = request.codecs
        originate.earlyMedia = request.earlyMedia
        return originate
    }

    public func place(_ request: CallRequest) -> AsyncStream<CallStage> {
        place(request, whenOver: nil)
    }

    public func place(_ request: CallRequest, report: @escaping CallReport) {
        place(request, whenOver: nil, report: report)
    }

    /// `whenOver` runs once, when the attempt is over for this backend (its stream ended, or its consumer
    /// stopped listening): the server pool frees the server's slot then.
    func place(_ request: CallRequest, whenOver: (@Sendable () -> Void)?) -> AsyncStream<CallStage> {
        AsyncStream { continuation in
            let task = Task {
                await follow(request) { continuation.yield($0) }
                continuation.finish()
            }
            continuation.onTermination = { _ in
                task.cancel()
                whenOver?()
            }
        }
    }

    /// The same, reporting straight to the engine: no stream and no task of our own per call. The client
    /// calls back on its event loop, where the stages are mapped and reported at once; only a dropped
    /// connection, which needs lookups, takes a task.
    func place(_ request: CallRequest, whenOver: (@Sendable () -> Void)?, report: @escaping CallReport) {
        let answered = AnsweredFlag()
        let channelId = request.channelId
        client.originate(Self.originate(for: request)) { [self] stage in
            if case .answered = stage { answered.set() }
            switch Self.reading(of: stage, answeredBefore: answered.isSet) {
            case .report(let callStage):
                report(callStage)
                guard stage.isTerminal else { return }
                whenOver?()
                report(nil)
            case .settle(let wasAnswered, let ifGone):
                Task {
                    await settleAfterDrop(channelId, answered: wasAnswered, ifGone: ifGone) { report($0) }
                    whenOver?()
                    report(nil)
                }
            }
        }
    }

    /// Set once the call was seen answered (the client's stages come one at a time, in order).
    private final class AnsweredFlag: Sendable {
        private let flag = Atomic<Bool>(false)
        func set() { flag.store(true, ordering: .relaxed) }
        var isSet: Bool { flag.load(ordering: .relaxed) }
    }

    /// What one of the client's stages means for the engine.
    enum StageReading: Equatable {
        case report(CallStage)
        /// The connection dropped while Asterisk may hold the call: ask it once reconnected (`answered`:
        /// the call was seen answered), and report `ifGone` when it has no such channel.
        case settle(answered: Bool, ifGone: CallStage)
    }

    /// The engine's reading of a client stage, contract §3; `answeredBefore`: `.answered` came earlier.
    static func reading(of stage: OriginateStage, answeredBefore: Bool) -> StageReading {
        switch stage {
        case .notSent(let message) where message == OriginateStage.unconfirmedMessage:
            // Asterisk may have received it and be dialling: only this server can say, so the call is
            // not free to be dialled again (here or elsewhere) until it has.
            .settle(answered: false, ifGone: .notPlaced("\(message), and Asterisk has no such call"))
        case .notSent(let message): .report(.notPlaced(message))
        case .rejected(let message): .report(message == shuttingDown ? .notPlaced(message) : .rejected(message))
        case .queued: .report(.placed)
        case .answered(let channel, _): .report(.answered(channel: channel))
        case .failed(let reason, _): .report(.failed(reason: reason, text: ReasonText.text(for: reason)))
        case .hungUp: .report(.hungUp)
        case .connectionLost(let afterAnswer):
            .settle(answered: answeredBefore || afterAnswer, ifGone: .failed(reason: 0, text: "connection lost"))
        case .noResponse: .report(.failed(reason: 0, text: "no response from Asterisk within WaitTime"))
        }
    }

    /// Sends the Originate and reports the client's stages as the engine's, until the client's stream ends.
    private func follow(_ request: CallRequest, _ report: (CallStage) -> Void) async {
        var answered = false
        for await stage in client.originate(Self.originate(for: request)) {
            if case .answered = stage { answered = true }
            switch Self.reading(of: stage, answeredBefore: answered) {
            case .report(let callStage): report(callStage)
            case .settle(let wasAnswered, let ifGone):
                await settleAfterDrop(request.channelId, answered: wasAnswered, ifGone: ifGone, report)
            }
        }
    }

    /// The connection dropped while Asterisk may hold the call: once reconnected, a call that is still
    /// there is followed to its end; one that is gone ends as `ifGone`.
    /// When the question cannot be answered, the attempt counts as failed ("connection lost"): counting it
    /// is safer than dialling a call that may be up.
    private func settleAfterDrop(_ channelId: String, answered: Bool, ifGone: CallStage,
                                 _ report: (CallStage) -> Void) async {
        for _ in 0..<lookupAttempts {
            guard (try? await client.waitUntilConnected()) != nil else { break }
            switch await channelStatus(channelId) {
            case .present(let status):
                await follow(channelId, seen: status, answered: answered, report)
                return
            case .gone:
                // Contract §3: gone after a drop is a failed attempt, even one spoold saw answered (it may
                // have ended at once); that it may be dialled again with retries left is in docs/ami.md.
                report(ifGone)
                return
            case .unknown:
                try? await Task.sleep(for: pollInterval)
            }
        }
        report(.failed(reason: 0, text: "connection lost"))
    }

    enum Lookup {
        case present(AMIChannelStatus)
        case gone
        /// Not connected, or Asterisk did not answer.
        case unknown
    }

    func channelStatus(_ channelId: String) async -> Lookup {
        guard client.isConnected else { return .unknown }
        do {
            let status = try await client.channelStatus(channelId)
            if let status, status.isUp { _ = seenAnswered.withLock { $0.insert(channelId) } }
            return status.map(Lookup.present) ?? .gone
        } catch {
            return .unknown
        }
    }

    /// Follows a call spoold did not see through (after a restart or a dropped connection) until it is
    /// gone: `.answered` once it is seen Up (in `Status`, or in its `Hangup` event's ChannelState), then
    /// `.hungUp`. A call that rang and ended unanswered therefore never reads as answered: the engine
    /// counts it as a failed attempt. Between looks it waits for the Hangup event, so a short call is
    /// judged by the event rather than missed between two polls.
    private func follow(_ channelId: String, seen first: AMIChannelStatus, answered: Bool,
                        _ report: (CallStage) -> Void) async {
        var answered = answered
        var status: AMIChannelStatus? = first
        var unknownLooks = 0
        while !Task.isCancelled {
            if let status, status.isUp, !answered {
                answered = true
                report(.answered(channel: channelId))
            }
            let hangup = await client.hangupEvent(of: channelId)
            if let event = await Self.first(of: hangup, within: pollInterval) {
                if event["ChannelState"] == "6", !answered { report(.answered(channel: channelId)) }
                report(.hungUp)
                return
            }
            switch await channelStatus(channelId) {
            case .present(let now):
                status = now
                unknownLooks = 0
            case .gone:
                report(.hungUp)
                return
            case .unknown:
                status = nil
                unknownLooks += 1
                if unknownLooks >= lookupAttempts {
                    report(.failed(reason: 0, text: "connection lost"))
                    return
                }
                _ = try? await client.waitUntilConnected()
            }
        }
    }

    /// The stream's first element, or nil when `timeout` passes first (or the stream ends without one).
    static func first(of stream: AsyncStream<AMIMessage>, within timeout: Duration) async -> AMIMessage? {
        await withTaskGroup(of: AMIMessage?.self) { group in
            group.addTask {
                for await element in stream { return element }
                try? await Task.sleep(for: timeout)  // ended by a dropped connection: wait out the interval
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let winner = await group.next() ?? nil
            group.cancelAll()
            return winner
        }
    }

    public func channelExists(_ channelId: String) async -> Bool? {
        switch await channelStatus(channelId) {
        case .present: return true
        case .gone: return false
        case .unknown: return nil
        }
    }

    /// `Action: Hangup` with `Channel: <ChannelId>`: Asterisk finds a channel by name or Uniqueid, so the
    /// ChannelId spoold gave the call names it. `No such channel`: it has ended already, which is no error.
    /// The call's own report (OriginateResponse, Hangup event) then ends the attempt as any hangup does.
    public func hangUp(channelId: String) async throws {
        guard client.isConnected else { throw AMIActionError.notConnected }
        let response = try await client.send(AMIMessage(["Action": "Hangup", "Channel": channelId]))
        guard response["Response"] == "Success" || response["Message"] == "No such channel" else {
            throw AMIActionError.error(response["Message"] ?? "Hangup refused")
        }
    }

    public func awaitHangup(of channelId: String) -> AsyncStream<CallStage> {
        AsyncStream { continuation in
            let task = Task {
                await followAdopted(channelId) { continuation.yield($0) }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// True once for a channel a lookup found Up (then forgotten): the pool asks it of every server.
    func takeSeenAnswered(_ channelId: String) -> Bool {
        seenAnswered.withLock { $0.remove(channelId) != nil }
    }

    private func followAdopted(_ channelId: String, _ report: (CallStage) -> Void) async {
        defer { _ = takeSeenAnswered(channelId) }
        for _ in 0..<lookupAttempts {
            switch await channelStatus(channelId) {
            case .present(let status):
                let answered = takeSeenAnswered(channelId)
                if answered { report(.answered(channel: channelId)) }
                return await follow(channelId, seen: status, answered: answered, report)
            case .gone:
                if takeSeenAnswered(channelId) { report(.answered(channel: channelId)) }
                report(.hungUp)
                return
            case .unknown:
                _ = try? await client.waitUntilConnected()
                try? await Task.sleep(for: pollInterval)
            }
        }
        report(.failed(reason: 0, text: "connection lost"))
    }
}
