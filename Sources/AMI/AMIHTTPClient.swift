import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PooledHTTP

/// AMI over Asterisk's HTTP server (`/rawman`), for sites where only HTTP(S) reaches Asterisk. Same
/// Originate stages as `AMIClient` over TCP, from the same `OriginateTracker`:
///
/// - Log in with `action=login` and keep the `mansession_id` cookie, or (with `useMD5`) answer HTTP digest
///   challenges on `/arawman`, so the secret never crosses the wire.
/// - Each action is one GET with the headers as URL parameters; its reply is the body. The requests of a
///   session share kept-alive connections (`PooledHTTPClient`): one for the `WaitEvent` long poll, one
///   for the actions beside it, however many actions there are.
/// - Events come from a `WaitEvent` long poll on its own request, one request per batch of events.
/// - A session that expired (`httptimeout`, `Permission denied` to everything) is logged in again at once;
///   no Originate is ever re-sent. Calls queued in the lost session end as `connectionLost`, as after a
///   TCP drop, so the engine asks `channelExists` for them (their events went with the session).
public final class AMIHTTPClient: AMIConnection {
    typealias Subscriber = AsyncStream<OriginateStage>.Continuation

    struct State: Sendable {
        var running = false
        var connected = false
        var runEndedWith: AMIConnectionError?
        var sessionID: String?
        var challenge: HTTPDigest.Challenge?
        var nonceCount = 0
        /// A digest nonce that worked was refused: Asterisk forgot the session, and its queued events.
        var digestSessionLost = false
        var originates = OriginateTracker<Subscriber>()
        /// Streams waiting for the `Hangup` event of a channel this client did not originate.
        var hangupWatchers: [String: [UInt64: AsyncStream<AMIMessage>.Continuation]] = [:]
        var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        /// `connectionStates()` streams.
        var stateSubscribers: [UInt64: AsyncStream<Bool>.Continuation] = [:]
        var cancelledWaiters: Set<UInt64> = []
        var counter: UInt64 = 0
    }

    public let configuration: AMIConfiguration
    private let http: AMIConfiguration.HTTP
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    /// The HTTP client of the running session; nil while `run` is not running.
    private let sessionHTTP = NIOLockedValueBox<PooledHTTPClient?>(nil)
    private let state = NIOLockedValueBox(State())
    /// Different for every client: OriginateResponse goes to every session, ours must not match others'.
    private let actionIDPrefix = String(UInt32.random(in: 0...UInt32.max), radix: 36) + "-h"

    public init(
        configuration: AMIConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.configuration = configuration
        if case .http(let http) = configuration.transport {
            self.http = http
        } else {
            self.http = AMIConfiguration.HTTP()
        }
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
    }

    /// The HTTP client's settings: Asterisk's HTTP server, over TLS when `tls` is set.
    static func httpConfiguration(_ configuration: AMIConfiguration) throws(AMIConnectionError) -> PooledHTTPClient.Configuration {
        var tls: TLSConfiguration?
        if let settings = configuration.tls {
            do {
                tls = try AMIClient.makeTLSConfiguration(settings)
            } catch {
                throw .tls("cannot set up TLS: \(error)")
            }
        }
        // Two connections carry a session: the WaitEvent long poll, and the actions beside it. A few
        // more let Originates sent at once go out together.
        return PooledHTTPClient.Configuration(
            host: configuration.host, port: configuration.port, tls: tls, serverName: configuration.tls?.serverName,
            connectTimeout: configuration.connectTimeout, idleTimeout: .seconds(10), maxConnections: 4)
    }

    public var isConnected: Bool { state.withLockedValue { $0.connected } }
    public var serverVersion: String? { nil }

    public func run() async throws {
        try await run(reconnect: true)
    }

    public func runOnce() async throws {
        try await run(reconnect: false)
    }

    // MARK: Session

    private func run(reconnect: Bool) async throws {
        state.withLockedValue {
            $0.running = true
            $0.runEndedWith = nil
        }
        let httpConfiguration: PooledHTTPClient.Configuration
        do {
            httpConfiguration = try Self.httpConfiguration(configuration)
        } catch {
            runEnded(with: error)
            throw error
        }
        let box = sessionHTTP
        try await PooledHTTPClient.withClient(httpConfiguration, eventLoopGroup: eventLoopGroup) { client in
            box.withLockedValue { $0 = client }
            defer { box.withLockedValue { $0 = nil } }
            try await serve(reconnect: reconnect)
        }
    }

    /// Logs in, polls, logs in again, until cancelled (or, without `reconnect`, the first failure).
    private func serve(reconnect: Bool) async throws {
        var finalError = AMIConnectionError.stopped
        defer { runEnded(with: finalError) }
        var backoff = ReconnectBackoff(initialDelay: configuration.reconnectInitialDelay, maximumDelay: configuration.reconnectMaxDelay)
        while !Task.isCancelled {
            do {
                try await login()
                backoff.reset()
                setConnected(true)
                logger.info("AMI connected over HTTP", metadata: ["ami.digest": "\(configuration.useMD5)"])
                try await pollEvents()
                // Back here only when the session expired: log in again at once.
                sessionEnded(cause: "AMI HTTP session expired; logging in again")
                continue
            } catch {
                sessionEnded(cause: nil)
                if Task.isCancelled || error is CancellationError { break }
                let cause = await AMITLSDiagnosis.explained(Self.classify(error), configuration, eventLoopGroup: eventLoopGroup)
                if !reconnect {
                    finalError = cause
                    throw cause
                }
                logger.warning("AMI connection failed", metadata: ["ami.cause": "\(cause)"])
            }
            let delay = backoff.nextDelay()
            do { try await Task.sleep(for: delay) } catch { break }
        }
        await logoff()
    }

    private func login() async throws {
        state.withLockedValue {
            $0.sessionID = nil
            $0.challenge = nil
            $0.digestSessionLost = false
        }
        let reply: [AMIMessage]
        if configuration.useMD5 {
            // Digest opens the session with any authenticated request; a Ping proves the credentials.
            reply = try await perform(AMIMessage(["Action": "Ping"]))
        } else {
            reply = try await perform(AMIMessage([
                "Action": "Login", "Username": configuration.username, "Secret": configuration.secret.value, "Events": "call",
            ]))
        }
        guard let response = reply.first, response["Response"] == "Success" else {
            throw AMIConnectionError.authenticationFailed(reply.first?["Message"] ?? "empty reply to login")
        }
        if !configuration.useMD5, state.withLockedValue({ $0.sessionID }) == nil {
            throw AMIConnectionError.protocolError("no mansession_id cookie in the login reply")
        }
    }

    /// Long-polls `WaitEvent` until the session is gone (returns) or a request fails (throws).
    private func pollEvents() async throws {
        let limit = http.httpTimeout - .seconds(1)
        let wait = max(.seconds(1), min(http.waitEventTimeout, limit))
        let seconds = wait.components.seconds
        while !Task.isCancelled {
            let reply = try await perform(AMIMessage(["Action": "WaitEvent", "Timeout": String(seconds)]),
                                          timeout: .seconds(seconds) + configuration.responseTimeout)
            if Self.sessionIsGone(reply) { return }
            for message in reply where message["Event"] != nil { handleEvent(message) }
            let expired = state.withLockedValue { $0.originates.expire(now: .now()) }
            for update in expired { deliver(update) }
            let lost = state.withLockedValue { state in
                defer { state.digestSessionLost = false }
                return state.digestSessionLost
            }
            if lost { return }
        }
        throw CancellationError()
    }

    private func logoff() async {
        let hasSession = state.withLockedValue { $0.sessionID != nil }
        guard hasSession, !configuration.useMD5 else { return }
        // Our own task is cancelled by now; the Logoff runs in a task of its own so it is still sent.
        let client = self
        _ = try? await Task { try await client.perform(AMIMessage(["Action": "Logoff"])) }.value
        state.withLockedValue { $0.sessionID = nil }
    }

    private func setConnected(_ connected: Bool) {
        let (waiters, subscribers) = state.withLockedValue { state -> ([CheckedContinuation<Void, any Error>], [AsyncStream<Bool>.Continuation]) in
            state.connected = connected
            guard connected else { return ([], []) }
            defer { state.waiters.removeAll() }
            return (Array(state.waiters.values), Array(state.stateSubscribers.values))
        }
        for waiter in waiters { waiter.resume() }
        for subscriber in subscribers { subscriber.yield(true) }
    }

    public func connectionStates() -> AsyncStream<Bool> {
        let (stream, continuation) = AsyncStream.makeStream(of: Bool.self, bufferingPolicy: .bufferingNewest(4))
        let id = state.withLockedValue { state -> UInt64 in
            state.counter += 1
            state.stateSubscribers[state.counter] = continuation
            continuation.yield(state.connected)
            return state.counter
        }
        continuation.onTermination = { [state] _ in
            state.withLockedValue { _ = $0.stateSubscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Sends one action and returns its response (the first message of the reply that is one).
    public func send(_ message: AMIMessage) async throws -> AMIMessage {
        guard isConnected else { throw AMIActionError.notConnected }
        var message = message
        message.append("ActionID", nextActionID())
        let reply = try await perform(message)
        guard let response = reply.first(where: { $0["Response"] != nil }) else {
            throw AMIActionError.error("empty reply to \(message["Action"] ?? "the action")")
        }
        return response
    }

    /// The session is over (expired, failed or stopped): every call in flight learns how far it got, as
    /// on a TCP drop. Nothing is re-sent.
    private func sessionEnded(cause: String?) {
        let (wasConnected, updates, watchers, subscribers) = state.withLockedValue { state in
            let wasConnected = state.connected
            state.connected = false
            defer { state.hangupWatchers.removeAll() }
            return (wasConnected, state.originates.connectionLost(), state.hangupWatchers.values.flatMap(\.values),
                    wasConnected ? Array(state.stateSubscribers.values) : [])
        }
        for subscriber in subscribers { subscriber.yield(false) }
        if wasConnected, let cause { logger.warning("\(cause)") }
        // A Hangup could now go unseen: each watcher's owner asks Asterisk again in the next session.
        for watcher in watchers { watcher.finish() }
        for update in updates {
            update.subscriber.yield(update.stage)
            update.subscriber.finish()
        }
    }

    private func runEnded(with error: AMIConnectionError) {
        sessionEnded(cause: nil)
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, any Error>] in
            state.running = false
            state.runEndedWith = error
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(throwing: error) }
    }

    public func waitUntilConnected() async throws {
        let id = state.withLockedValue { state -> UInt64 in
            state.counter += 1
            return state.counter
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let now: Result<Void, any Error>? = state.withLockedValue { state in
                    if state.cancelledWaiters.remove(id) != nil { return .failure(CancellationError()) }
                    if state.connected { return .success(()) }
                    if !state.running, let error = state.runEndedWith { return .failure(error) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            let waiter = state.withLockedValue { state in
                let waiter = state.waiters.removeValue(forKey: id)
                if waiter == nil { state.cancelledWaiters.insert(id) }
                return waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    // MARK: Originate

    public func originate(_ request: OriginateRequest) -> AsyncStream<OriginateStage> {
        let (stream, continuation) = AsyncStream.makeStream(of: OriginateStage.self)
        guard isConnected else {
            continuation.yield(.notSent("not connected to AMI"))
            continuation.finish()
            return stream
        }
        let actionID = nextActionID()
        let message = request.message(actionID: actionID)
        do {
            _ = try AMIHTTPCodec.query(for: message)
        } catch {
            // Permanent: the same request would be refused again.
            continuation.yield(.rejected("invalid Originate: \(error)"))
            continuation.finish()
            return stream
        }
        state.withLockedValue {
            $0.originates.sent(
                actionID: actionID, channelId: request.channelId, subscriber: continuation,
                responseDeadline: .now() + TimeAmount(configuration.responseTimeout),
                resultWindow: TimeAmount(request.timeout) + TimeAmount(configuration.originateResponseMargin))
        }
        continuation.onTermination = { [state] termination in
            guard case .cancelled = termination else { return }
            state.withLockedValue { _ = $0.originates.remove(actionID) }
        }
        Task { await self.send(message, actionID: actionID) }
        return stream
    }

    private func send(_ originate: AMIMessage, actionID: String) async {
        let reply: [AMIMessage]
        do {
            reply = try await perform(originate)
        } catch {
            // The request or its reply was lost: not confirmed, as a TCP drop before "queued".
            endIfUnconfirmed(actionID, .notSent("connection lost before Asterisk confirmed the Originate"))
            return
        }
        let response = reply.first { $0["ActionID"] == actionID } ?? reply.first
            ?? AMIMessage(["Response": "Error", "Message": "empty reply to the Originate"])
        if response["Response"] == "Error", response["Message"] == "Permission denied", await sessionExpired() {
            // Asterisk never read it; the poll loop logs in again. Not re-sent: the engine decides.
            endIfUnconfirmed(actionID, .notSent("AMI HTTP session expired before Asterisk accepted the Originate"))
            return
        }
        let update = state.withLockedValue { $0.originates.response(response, actionID: actionID, now: .now()) }
        if let update { deliver(update) }
    }

    /// `Permission denied` also means a user without `originate` permission; a Ping tells them apart.
    private func sessionExpired() async -> Bool {
        guard let reply = try? await perform(AMIMessage(["Action": "Ping"])) else { return true }
        return Self.sessionIsGone(reply)
    }

    private func endIfUnconfirmed(_ actionID: String, _ stage: OriginateStage) {
        let subscriber = state.withLockedValue { state -> Subscriber? in
            guard let entry = state.originates.entries[actionID], case .sent = entry.progress else { return nil }
            return state.originates.remove(actionID)?.subscriber
        }
        subscriber?.yield(stage)
        subscriber?.finish()
    }

    private func handleEvent(_ message: AMIMessage) {
        let (updates, watchers) = state.withLockedValue { state -> ([OriginateTracker<Subscriber>.Update], [AsyncStream<AMIMessage>.Continuation]) in
            switch message["Event"] ?? "" {
            case "OriginateResponse":
                guard let actionID = message["ActionID"] else { return ([], []) }
                return (state.originates.originateResponse(message, actionID: actionID), [])
            case "Hangup":
                let watchers = message["Uniqueid"].flatMap { state.hangupWatchers.removeValue(forKey: $0) }
                return (state.originates.hangup(message).map { [$0] } ?? [], watchers.map { Array($0.values) } ?? [])
            default:
                return ([], [])
            }
        }
        for update in updates { deliver(update) }
        for watcher in watchers {
            watcher.yield(message)
            watcher.finish()
        }
    }

    public func hangupEvent(of uniqueid: String) async -> AsyncStream<AMIMessage> {
        let (stream, continuation) = AsyncStream.makeStream(of: AMIMessage.self)
        let id: UInt64? = state.withLockedValue { state in
            guard state.connected else { return nil }
            state.counter += 1
            state.hangupWatchers[uniqueid, default: [:]][state.counter] = continuation
            return state.counter
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [state] _ in
            state.withLockedValue { state in
                state.hangupWatchers[uniqueid]?[id] = nil
                if state.hangupWatchers[uniqueid]?.isEmpty == true { state.hangupWatchers[uniqueid] = nil }
            }
        }
        return stream
    }

    private func deliver(_ update: OriginateTracker<Subscriber>.Update) {
        update.subscriber.yield(update.stage)
        if update.stage.isTerminal { update.subscriber.finish() }
    }

    // MARK: Other actions

    public func channelExists(_ channelId: String) async throws -> Bool {
        try await channelStatus(channelId) != nil
    }

    /// `Action: Status` as over TCP; over HTTP the list's `Status` events come in the same reply.
    public func channelStatus(_ channelId: String) async throws -> AMIChannelStatus? {
        guard isConnected else { throw AMIActionError.notConnected }
        let actionID = nextActionID()
        let reply = try await perform(AMIMessage(["Action": "Status", "Channel": channelId, "ActionID": actionID]))
        guard let response = reply.first(where: { $0["Response"] != nil }) else {
            throw AMIActionError.error("empty reply to Status")
        }
        guard response["Response"] == "Success" else {
            let message = response["Message"] ?? ""
            if message == "No such channel" { return nil }
            throw AMIActionError.error(message)
        }
        guard let status = reply.first(where: { $0["Event"] == "Status" }) else { return nil }
        return AMIChannelStatus(state: status["ChannelState"].flatMap { Int($0) }, description: status["ChannelStateDesc"] ?? "")
    }

    // MARK: HTTP

    /// One action as a GET; the messages of its reply. Answers a digest challenge (the first, or a stale
    /// nonce) and keeps the session cookie.
    func perform(_ message: AMIMessage, timeout: Duration? = nil) async throws -> [AMIMessage] {
        guard let client = sessionHTTP.withLockedValue({ $0 }) else { throw AMIActionError.notConnected }
        let query: String
        do {
            query = try AMIHTTPCodec.query(for: message)
        } catch {
            throw AMIActionError.invalidRequest("\(error)")
        }
        let uri = (configuration.useMD5 ? http.digestPath : http.pathPrefix) + "?" + query
        // The URI holds the secret on a cookie login: only the masked message is ever logged.
        logger.trace("AMI sent\n\(AMITrace.text(message, .sent))")
        for attempt in 0..<3 {
            let headers = requestHeaders(uri: uri)
            let response = try await client.request(.GET, uri, headers: headers, timeout: timeout ?? configuration.responseTimeout)
            if response.status == .unauthorized {
                guard configuration.useMD5, let challenge = response.headers.first(name: "WWW-Authenticate").flatMap(HTTPDigest.Challenge.init(header:)) else {
                    throw AMIConnectionError.authenticationFailed("HTTP 401 Unauthorized on \(uri.prefix { $0 != "?" })")
                }
                // A first challenge or a stale nonce is answered; a fresh challenge after our answer means
                // the credentials are wrong.
                let answered = state.withLockedValue { $0.challenge != nil }
                if attempt > 0 && answered && !challenge.stale {
                    throw AMIConnectionError.authenticationFailed("HTTP digest authentication refused")
                }
                state.withLockedValue {
                    if $0.challenge != nil, attempt == 0 { $0.digestSessionLost = true }
                    $0.challenge = challenge
                    $0.nonceCount = 0
                }
                continue
            }
            guard response.status == .ok else {
                throw AMIConnectionError.protocolError("HTTP \(response.status.code) \(response.status.reasonPhrase) on \(uri.prefix { $0 != "?" })")
            }
            if !configuration.useMD5, let id = response.headers[canonicalForm: "Set-Cookie"].lazy.compactMap({ AMIHTTPCodec.sessionID(fromSetCookie: String($0)) }).first {
                state.withLockedValue { $0.sessionID = id }
            }
            let messages = try AMIHTTPCodec.messages(inRawmanBody: response.body)
            for message in messages { logger.trace("AMI received\n\(AMITrace.text(message, .received))") }
            return messages
        }
        throw AMIConnectionError.authenticationFailed("HTTP digest authentication refused")
    }

    private func requestHeaders(uri: String) -> [(String, String)] {
        state.withLockedValue { state in
            if configuration.useMD5 {
                guard let challenge = state.challenge else { return [] }
                state.nonceCount += 1
                let cnonce = String(UInt64.random(in: 0...UInt64.max), radix: 16)
                return [("Authorization", HTTPDigest.authorization(
                    for: challenge, username: configuration.username, password: configuration.secret.value,
                    method: "GET", uri: uri, nonceCount: state.nonceCount, cnonce: cnonce))]
            }
            guard let id = state.sessionID else { return [] }
            return [("Cookie", AMIHTTPCodec.cookieHeader(sessionID: id))]
        }
    }

    private func nextActionID() -> String {
        let number = state.withLockedValue { state -> UInt64 in
            state.counter += 1
            return state.counter
        }
        return actionIDPrefix + String(number, radix: 36)
    }

    /// Asterisk's answer to any action on a session that does not exist (expired or never logged in).
    static func sessionIsGone(_ reply: [AMIMessage]) -> Bool {
        guard let first = reply.first, first["Response"] == "Error" else { return false }
        return first["Message"] == "Permission denied" || first["Message"] == "Authentication Required"
    }

    static func classify(_ error: any Error) -> AMIConnectionError {
        switch error {
        case let error as AMIConnectionError: return error
        case let error as AMIActionError where error == .responseTimeout: return .timeout("no HTTP reply in time")
        case let error as AMIActionError where error == .connectionLost: return .closedByServer
        case let error as PooledHTTPClient.Failure:
            switch error {
            case .timedOut: return .timeout("no HTTP reply in time")
            case .connectionClosed: return .closedByServer
            case .connectTimeout: return .timeout("\(error)")
            case .bodyTooLarge: return .protocolError("\(error)")
            }
        default: return AMIConnectionHandler.classify(error)
        }
    }
}
