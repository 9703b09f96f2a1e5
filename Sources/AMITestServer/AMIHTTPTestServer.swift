import AMI
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SimulatedCalls

/// The test server's HTTP variant: AMI over Asterisk's HTTP server as the `ami_http_rawman_ping`
/// transcript shows it. `/rawman` with `action=login` and a `mansession_id` cookie, `/arawman` with HTTP
/// digest (RFC 2617, qop=auth); every reply is `Key: value` lines with a blank line after each message;
/// `WaitEvent` long-polls for the session's events (OriginateResponse, Hangup). Sessions unused for
/// `httpTimeout` expire, and `expireSessions()` ends them all at once for tests. Calls are dialled by the
/// same simulated outcomes as the TCP server, and every Originate received is recorded. Connections are
/// kept alive between requests (as Asterisk's HTTP server does for HTTP/1.1 clients) and counted; with
/// `configuration.tls` it speaks HTTPS.
public final class AMIHTTPTestServer: Sendable {
    public let configuration: AMITestServerConfiguration
    public let port: Int
    let state: ServerState
    let manager: HTTPManager
    private let serverChannel: any Channel
    private let ownedGroup: MultiThreadedEventLoopGroup?

    public static func start(
        configuration: AMITestServerConfiguration = AMITestServerConfiguration(),
        httpTimeout: Duration = .seconds(60),
        eventLoopGroup: (any EventLoopGroup)? = nil
    ) async throws -> AMIHTTPTestServer {
        let ownedGroup = eventLoopGroup == nil ? MultiThreadedEventLoopGroup(numberOfThreads: 1) : nil
        let loop = (eventLoopGroup ?? ownedGroup!).next()
        let state = ServerState(eventLoop: loop, configuration: configuration, onOriginate: nil)
        let manager = HTTPManager(state: state, httpTimeout: TimeAmount(httpTimeout))
        do {
            let sslContext = try configuration.tls.map { try NIOSSLContext(configuration: $0) }
            let channel = try await ServerBootstrap(group: loop)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    state.connectionsAccepted.withLockedValue { $0 += 1 }
                    return channel.eventLoop.makeCompletedFuture {
                        if let sslContext {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                        }
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(HTTPRequestHandler(manager: manager))
                    }
                }
                .bind(host: configuration.host, port: configuration.port)
                .get()
            return AMIHTTPTestServer(configuration: configuration, port: channel.localAddress?.port ?? configuration.port,
                                     state: state, manager: manager, serverChannel: channel, ownedGroup: ownedGroup)
        } catch {
            try? await ownedGroup?.shutdownGracefully()
            throw error
        }
    }

    private init(configuration: AMITestServerConfiguration, port: Int, state: ServerState, manager: HTTPManager,
                 serverChannel: any Channel, ownedGroup: MultiThreadedEventLoopGroup?) {
        self.configuration = configuration
        self.port = port
        self.state = state
        self.manager = manager
        self.serverChannel = serverChannel
        self.ownedGroup = ownedGroup
    }

    /// Every Originate received, in order, whatever the answer.
    public var originates: [OriginateRecord] { state.records.withLockedValue { $0 } }

    /// How many connections were accepted since the start.
    public var connectionsAccepted: Int { state.connectionsAccepted.withLockedValue { $0 } }

    /// Requests answered since the start, on whichever connections.
    public var requestsAnswered: Int { manager.requestCount.withLockedValue { $0 } }

    /// Successful logins so far (cookie logins and digest sessions opened).
    public var logins: Int { manager.loginCount.withLockedValue { $0 } }

    public func setBehaviour(_ change: (inout AMITestServerConfiguration.Behaviour) -> Void) {
        state.behaviour.withLockedValue { change(&$0) }
    }

    /// Ends every session and forgets every digest nonce, as when `httptimeout` passed unused: the next
    /// request of each client gets `Permission denied` (or a new digest challenge). Calls go on.
    public func expireSessions() async {
        let manager = self.manager
        try? await state.eventLoop.submit { manager.expireAll() }.get()
    }

    public func channelIsUp(_ uniqueid: String) async -> Bool {
        let state = self.state
        return (try? await state.eventLoop.submit { state.channels[uniqueid] != nil }.get()) ?? false
    }

    public func stop() async throws {
        await expireSessions()
        try await serverChannel.close()
        try await ownedGroup?.shutdownGracefully()
    }
}

/// The sessions and the actions, confined to the server's event loop.
final class HTTPManager: @unchecked Sendable {
    typealias Reply = (_ status: HTTPResponseStatus, _ headers: [(String, String)], _ body: String) -> Void

    static let realm = "asterisk"

    let state: ServerState
    let httpTimeout: TimeAmount
    let loginCount = NIOLockedValueBox(0)
    let requestCount = NIOLockedValueBox(0)
    private var sessions: [String: HTTPManagerSession] = [:]
    private var nonces: Set<String> = []

    init(state: ServerState, httpTimeout: TimeAmount) {
        self.state = state
        self.httpTimeout = httpTimeout
    }

    func expireAll() {
        for session in sessions.values { end(session) }
        nonces.removeAll()
    }

    private func end(_ session: HTTPManagerSession) {
        sessions.removeValue(forKey: session.id)
        state.eventSinks.removeValue(forKey: ObjectIdentifier(session))
        session.finishWaiting()
    }

    private func newSession(id: String, loggedIn: Bool, now: NIODeadline) -> HTTPManagerSession {
        let session = HTTPManagerSession(id: id, loggedIn: loggedIn, now: now)
        sessions[id] = session
        state.eventSinks[ObjectIdentifier(session)] = session
        return session
    }

    func handle(_ head: HTTPRequestHead, reply: @escaping Reply) {
        let now = NIODeadline.now()
        for session in sessions.values where session.lastSeen + httpTimeout < now { end(session) }
        let path = head.uri.prefix { $0 != "?" }
        let query = head.uri.dropFirst(path.count).dropFirst()
        let message = AMIMessage(headers: AMIHTTPCodec.parameters(ofQuery: query))
        let session: HTTPManagerSession
        switch path {
        case "/rawman":
            let presented = head.headers.first(name: "Cookie").flatMap(AMIHTTPCodec.sessionID(fromSetCookie:))
            session = presented.flatMap { sessions[$0] }
                ?? newSession(id: String(UInt32.random(in: 0...UInt32.max), radix: 16), loggedIn: false, now: now)
        case "/arawman":
            guard let user = verifiedDigestUser(head) else {
                let nonce = String(UInt64.random(in: 0...UInt64.max), radix: 16)
                nonces.insert(nonce)
                let challenge = HTTPDigest.Challenge(realm: Self.realm, nonce: nonce, opaque: nonce)
                reply(.unauthorized, [("WWW-Authenticate", challenge.headerValue), ("Content-type", "text/html")],
                      "<title>401 Unauthorized</title>")
                return
            }
            if let existing = sessions["digest:" + user] {
                session = existing
            } else {
                session = newSession(id: "digest:" + user, loggedIn: true, now: now)
                loginCount.withLockedValue { $0 += 1 }
            }
        default:
            reply(.notFound, [("Content-type", "text/html")], "<title>404 Not Found</title>")
            return
        }
        session.lastSeen = now
        let headers = [
            ("Content-type", "text/plain"), ("Cache-Control", "no-cache, no-store"),
            ("Set-Cookie", "mansession_id=\"\(session.id)\"; Version=1; Max-Age=\(httpTimeout.nanoseconds / 1_000_000_000)"),
            ("Pragma", "SuppressEvents"),
        ]
        perform(message, in: session, digest: path == "/arawman") { messages in
            session.lastSeen = .now()
            reply(.ok, headers, messages.map(Self.text).joined())
        }
    }

    private func perform(_ message: AMIMessage, in session: HTTPManagerSession, digest: Bool, reply: @escaping ([AMIMessage]) -> Void) {
        let actionID = message["ActionID"]
        func respond(_ pairs: KeyValuePairs<String, String>) {
            var response = AMIMessage()
            for (index, pair) in pairs.enumerated() {
                response.append(pair.key, pair.value)
                if index == 0, let actionID { response.append("ActionID", actionID) }
            }
            reply([response])
        }
        let action = (message["Action"] ?? "").lowercased()
        let behaviour = state.behaviour.withLockedValue { $0 }
        if action == "originate" { state.record(message, connection: 0, keep: behaviour.recordOriginates) }
        switch action {
        case "":
            respond(["Response": "Error", "Message": "Missing action in request"])
            return
        case "login" where !digest:
            let configuration = state.configuration
            guard message["Username"]?.lowercased() == configuration.username.lowercased(), message["Secret"] == configuration.secret else {
                respond(["Response": "Error", "Message": "Authentication failed"])
                return
            }
            if !session.loggedIn { loginCount.withLockedValue { $0 += 1 } }
            session.loggedIn = true
            respond(["Response": "Success", "Message": "Authentication accepted"])
            return
        case "logoff":
            end(session)
            respond(["Response": "Goodbye", "Message": "Thanks for all the fish."])
            return
        default:
            break
        }
        guard session.loggedIn else {
            respond(["Response": "Error", "Message": "Permission denied"])
            return
        }
        switch action {
        case "ping":
            respond(["Response": "Success", "Ping": "Pong", "Timestamp": TestServerSession.timestamp()])
        case "waitevent":
            // Asterisk keeps a WaitEvent under httptimeout so the session outlives it.
            let asked = Int64(message["Timeout"] ?? "") ?? Int64.max / 1_000_000_000
            let timeout = min(TimeAmount.seconds(asked), httpTimeout)
            session.waitEvent(timeout: timeout, on: state.eventLoop) { events in
                var head = AMIMessage(["Response": "Success"])
                if let actionID { head.append("ActionID", actionID) }
                head.append("Message", "Waiting for Event completed.")
                var complete = AMIMessage(["Event": "WaitEventComplete"])
                if let actionID { complete.append("ActionID", actionID) }
                reply([head] + events + [complete])
            }
        case "originate":
            guard behaviour.originatePermitted else {
                respond(["Response": "Error", "Message": "Permission denied"])
                return
            }
            if let error = OriginateChecks.error(for: message, systemPermitted: behaviour.systemPermitted) {
                respond(["Response": "Error", "Message": error])
                return
            }
            guard OriginateChecks.isTrue(message["Async"]) else {
                respond(["Response": "Error", "Message": "the HTTP test server only takes async Originates"])
                return
            }
            respond(["Response": "Success", "Message": "Originate successfully queued"])
            if !behaviour.withholdOriginateResults {
                let timeout = Int(message["Timeout"] ?? "") ?? 30_000
                state.startCall(message, actionID: actionID, outcome: CallOutcome(channel: message["Channel"] ?? ""), timeout: timeout)
            }
        case "status":
            let wanted = message["Channel"] ?? ""
            guard let channel = state.channels[wanted] ?? state.channels.values.first(where: { $0.name == wanted }) else {
                respond(["Response": "Error", "Message": "No such channel"])
                return
            }
            var response = AMIMessage(["Response": "Success"])
            if let actionID { response.append("ActionID", actionID) }
            response.append("Message", "Channel status will follow")
            let status = AMIMessage(["Event": "Status", "Channel": channel.name, "Uniqueid": channel.uniqueid])
            reply([response, status, AMIMessage(["Event": "StatusComplete", "Items": "1"])])
        default:
            respond(["Response": "Error", "Message": "Invalid/unknown command: \(message["Action"] ?? ""). Use Action: ListCommands to show available commands."])
        }
    }

    /// The user a digest `Authorization` header proves, if it answers one of our nonces for this URI.
    private func verifiedDigestUser(_ head: HTTPRequestHead) -> String? {
        guard let header = head.headers.first(name: "Authorization"), header.lowercased().hasPrefix("digest ") else { return nil }
        let fields = HTTPDigest.parameters(Substring(header).dropFirst("digest ".count))
        let configuration = state.configuration
        guard let user = fields["username"], user.lowercased() == configuration.username.lowercased(),
              let nonce = fields["nonce"], nonces.contains(nonce), fields["uri"] == head.uri,
              let nc = fields["nc"], let cnonce = fields["cnonce"], let qop = fields["qop"], let response = fields["response"] else {
            return nil
        }
        let expected = HTTPDigest.response(username: user, password: configuration.secret, realm: Self.realm, nonce: nonce,
                                           method: "GET", uri: head.uri, nc: nc, cnonce: cnonce, qop: qop)
        return expected == response ? user.lowercased() : nil
    }

    static func text(_ message: AMIMessage) -> String {
        message.headers.map { "\($0.name): \($0.value)\r\n" }.joined() + "\r\n"
    }
}

/// Collects each request and writes the manager's reply; the connection stays open for the next request
/// unless the client asked to close it (`Connection: close`, or HTTP/1.0 without keep-alive).
final class HTTPRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let manager: HTTPManager
    private var head: HTTPRequestHead?

    init(manager: HTTPManager) {
        self.manager = manager
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let keepAlive = head.isKeepAlive
            let manager = self.manager
            manager.handle(head) { status, headers, body in
                manager.requestCount.withLockedValue { $0 += 1 }
                let context = loopBound.value
                guard context.channel.isActive else { return }
                var responseHead = HTTPResponseHead(version: head.version, status: status)
                responseHead.headers.add(name: "Server", value: "Asterisk/22.10.1")
                for (name, value) in headers { responseHead.headers.add(name: name, value: value) }
                responseHead.headers.add(name: "Content-Length", value: String(body.utf8.count))
                if !keepAlive { responseHead.headers.add(name: "Connection", value: "close") }
                context.write(self.wrapOutboundOut(.head(responseHead)), promise: nil)
                context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
                context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in
                    if !keepAlive { loopBound.value.close(promise: nil) }
                }
            }
        }
    }
}
