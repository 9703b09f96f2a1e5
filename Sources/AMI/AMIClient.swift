import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A client for Asterisk's manager interface, made for dialling: it logs in, keeps the connection alive,
/// reconnects, and follows each Originate to its end. It never re-sends an Originate.
public final class AMIClient: Sendable {
    public let configuration: AMIConfiguration
    private let core: AMIClientCore
    private let logger: Logger

    public init(
        configuration: AMIConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.configuration = configuration
        self.logger = logger
        self.core = AMIClientCore(eventLoop: eventLoopGroup.next(), configuration: configuration, logger: logger)
    }

    /// True while logged in and ready for actions.
    public var isConnected: Bool { core.connectedFlag.withLockedValue { $0 } }

    /// The AMI version from the banner of the current (or last) connection.
    public var serverVersion: String? { core.serverVersion.withLockedValue { $0 } }

    /// Connects, logs in, keeps alive and reconnects with capped exponential backoff and jitter until the
    /// task is cancelled; then logs off and returns.
    public func run() async throws {
        try await run(reconnect: true)
    }

    /// One connection only: returns when it ends cleanly (after cancellation), throws why it failed or
    /// dropped. For tools such as `spoold ami-ping`.
    public func runOnce() async throws {
        try await run(reconnect: false)
    }

    /// Returns once logged in; throws if the run ends first (or the task is cancelled).
    public func waitUntilConnected() async throws {
        let core = self.core
        // Both closures run on the event loop, in order; the box only carries the state between them.
        let waiter = NIOLockedValueBox<(id: UInt64?, cancelled: Bool)>((nil, false))
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                core.eventLoop.execute {
                    if waiter.withLockedValue({ $0.cancelled }) {
                        continuation.resume(throwing: CancellationError())
                        return
                    }
                    let id = core.addConnectedWaiter(continuation)
                    waiter.withLockedValue { $0.id = id }
                }
            }
        } onCancel: {
            core.eventLoop.execute {
                let id = waiter.withLockedValue { state -> UInt64? in
                    state.cancelled = true
                    return state.id
                }
                if let id { core.cancelConnectedWaiter(id) }
            }
        }
    }

    /// `true` when a connection is logged in, `false` when a logged-in connection drops, starting with the
    /// state at the time of the call; for work that belongs to each connection (checks at login, waking
    /// whoever waits for a server). Ends when the consumer stops iterating.
    public func connectionStates() -> AsyncStream<Bool> {
        let (stream, continuation) = AsyncStream.makeStream(of: Bool.self, bufferingPolicy: .bufferingNewest(4))
        let core = self.core
        core.eventLoop.execute { core.addStateSubscriber(continuation) }
        return stream
    }

    /// Sends an async Originate. The stream yields its stages in order and ends after a terminal one. A
    /// consumer that stops early (say after `.answered`) makes the client forget the call.
    public func originate(_ request: OriginateRequest) -> AsyncStream<OriginateStage> {
        let (stream, continuation) = AsyncStream.makeStream(of: OriginateStage.self)
        startOriginate(request, .stream(continuation))
        return stream
    }

    /// Sends an async Originate and calls `onStage` with its stages in order, on the client's event loop,
    /// ending with a terminal one. `onStage` must not block: it runs where the connection's bytes are read.
    public func originate(_ request: OriginateRequest, onStage: @escaping @Sendable (OriginateStage) -> Void) {
        startOriginate(request, .function(onStage))
    }

    private func startOriginate(_ request: OriginateRequest, _ subscriber: OriginateSubscriber) {
        let core = self.core
        if core.eventLoop.inEventLoop {
            core.startOriginate(request, subscriber: subscriber)
        } else {
            core.eventLoop.execute { core.startOriginate(request, subscriber: subscriber) }
        }
    }

    /// Whether Asterisk still has a channel with this id (a ChannelId spoold assigned, which Asterisk
    /// makes the channel's Uniqueid).
    public func channelExists(_ channelId: String) async throws -> Bool {
        try await channelStatus(channelId) != nil
    }

    /// The state of a channel by its Uniqueid, nil when Asterisk has no such channel. `Action: Status`
    /// with `Channel: <id>` finds a channel by name or Uniqueid and lists it in a `Status` event (its
    /// `ChannelState`); when there is none the answer is `Response: Error` / `Message: No such channel`.
    public func channelStatus(_ channelId: String) async throws -> AMIChannelStatus? {
        let list = try await sendList(AMIMessage(["Action": "Status", "Channel": channelId]))
        let response = list[0]
        guard response["Response"] == "Success" else {
            let message = response["Message"] ?? ""
            if message == "No such channel" { return nil }
            throw AMIActionError.error(message)
        }
        guard let status = list.dropFirst().first(where: { $0["Event"] == "Status" }) else { return nil }
        return AMIChannelStatus(state: status["ChannelState"].flatMap { Int($0) }, description: status["ChannelStateDesc"] ?? "")
    }

    /// The `Hangup` event of a channel this client did not originate (one found up after a restart or a
    /// reconnect). The stream yields it and ends; it ends without it when the connection drops. The watch
    /// is in place when this returns, so a Hangup that arrives afterwards is never missed.
    public func hangupEvent(of uniqueid: String) async -> AsyncStream<AMIMessage> {
        let (stream, continuation) = AsyncStream.makeStream(of: AMIMessage.self)
        let core = self.core
        do {
            try await core.eventLoop.submit { core.watchHangup(of: uniqueid, continuation) }.get()
        } catch {
            continuation.finish()
        }
        return stream
    }

    /// The round-trip time of one `Ping`.
    public func ping() async throws -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        let response = try await send(AMIMessage(["Action": "Ping"]))
        guard response["Response"] == "Success" else { throw AMIActionError.error(response["Message"] ?? "Ping refused") }
        return clock.now - start
    }

    /// Sends one action (the client adds its ActionID) and returns its response.
    public func send(_ message: AMIMessage) async throws -> AMIMessage {
        let promise = core.eventLoop.makePromise(of: [AMIMessage].self)
        let core = self.core
        core.eventLoop.execute { core.send(message, promise: promise) }
        return try await promise.futureResult.get()[0]
    }

    /// Sends a list action and returns its response followed by the events of its list (up to and
    /// including the one with `EventList: Complete`); just the response when it starts no list.
    public func sendList(_ message: AMIMessage) async throws -> [AMIMessage] {
        let promise = core.eventLoop.makePromise(of: [AMIMessage].self)
        let core = self.core
        core.eventLoop.execute { core.send(message, collectsList: true, promise: promise) }
        return try await promise.futureResult.get()
    }

    // MARK: Connecting

    private func run(reconnect: Bool) async throws {
        let core = self.core
        try await core.eventLoop.submit { core.runStarted() }.get()
        var backoff = ReconnectBackoff(
            initialDelay: configuration.reconnectInitialDelay,
            maximumDelay: configuration.reconnectMaxDelay
        )
        var finalError = AMIConnectionError.stopped
        defer {
            let error = finalError
            core.eventLoop.execute { core.runEnded(with: error) }
        }
        while !Task.isCancelled {
            var ended = await connectAndServe()
            if let error = ended.error {
                ended.error = await AMITLSDiagnosis.explained(error, configuration, eventLoopGroup: core.eventLoop)
            }
            if ended.becameReady { backoff.reset() }
            if let error = ended.error {
                if !reconnect {
                    finalError = error
                    throw error
                }
                logger.warning("AMI connection failed", metadata: ["ami.cause": "\(error)"])
            } else if !reconnect {
                return
            }
            guard !Task.isCancelled else { break }
            let delay = backoff.nextDelay()
            logger.info("AMI reconnecting", metadata: ["ami.delay": "\(delay)"])
            do { try await Task.sleep(for: delay) } catch { break }
        }
    }

    /// One connection from TCP connect to close.
    private func connectAndServe() async -> ConnectionEnd {
        let core = self.core
        let configuration = self.configuration
        let logger = self.logger
        let sslContext: NIOSSLContext?
        do {
            sslContext = try configuration.tls.map(Self.makeSSLContext)
        } catch {
            return ConnectionEnd(becameReady: false, error: .tls("cannot set up TLS: \(error)"))
        }
        let settings = AMIConnectionStateMachine.Settings(
            username: configuration.username, secret: configuration.secret,
            useMD5: configuration.useMD5, useServerFilter: configuration.useServerFilter
        )
        let bootstrap = ClientBootstrap(group: core.eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let sslContext {
                        let serverName = configuration.tls?.serverName ?? configuration.host
                        let handler = try NIOSSLClientHandler(context: sslContext, serverHostname: Self.isIPAddress(serverName) ? nil : serverName)
                        try pipeline.addHandler(handler)
                    }
                    try pipeline.addHandler(ByteToMessageHandler(AMIFrameDecoder()))
                    if logger.logLevel <= .trace { try pipeline.addHandler(AMITraceHandler(logger: logger)) }
                    try pipeline.addHandler(IdleStateHandler(readTimeout: TimeAmount(configuration.pingInterval)))
                    let handler = AMIConnectionHandler(
                        stateMachine: AMIConnectionStateMachine(settings: settings, actionIDPrefix: core.actionIDPrefix + "c-"),
                        core: core,
                        responseTimeout: TimeAmount(configuration.responseTimeout),
                        pingTimeout: TimeAmount(configuration.pingTimeout)
                    )
                    core.attach(handler)
                    try pipeline.addHandler(handler)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            return ConnectionEnd(becameReady: false, error: Self.classifyConnectError(error))
        }
        await withTaskCancellationHandler {
            try? await channel.closeFuture.get()
        } onCancel: {
            core.eventLoop.execute { core.requestLogoff() }
        }
        // Fails only if the event loop was shut down under us.
        return (try? await core.eventLoop.submit { core.lastConnectionEnd }.get()) ?? ConnectionEnd(becameReady: false, error: .stopped)
    }

    static func makeSSLContext(_ tls: AMIConfiguration.TLS) throws -> NIOSSLContext {
        try NIOSSLContext(configuration: makeTLSConfiguration(tls))
    }

    /// The client side of TLS for both transports: the CA file's certificates as the only trust roots
    /// (the system's when none is given), and full verification (chain, validity, name) unless turned off.
    static func makeTLSConfiguration(_ tls: AMIConfiguration.TLS) throws -> TLSConfiguration {
        var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
        if let caFile = tls.caFile {
            tlsConfiguration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        }
        tlsConfiguration.certificateVerification = tls.verifyCertificate ? .fullVerification : .none
        return tlsConfiguration
    }

    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }

    static func classifyConnectError(_ error: any Error) -> AMIConnectionError {
        if let error = error as? NIOConnectionError {
            for failure in error.connectionErrors {
                if let ioError = failure.error as? IOError, ioError.errnoCode == ECONNREFUSED {
                    return .refused("\(error.host):\(error.port)")
                }
            }
            if error.connectionErrors.isEmpty, error.dnsAError != nil || error.dnsAAAAError != nil {
                return .other("cannot resolve \(error.host)")
            }
            return .other("cannot connect to \(error.host):\(error.port)")
        }
        if let ioError = error as? IOError, ioError.errnoCode == ECONNREFUSED {
            return .refused(ioError.description)
        }
        if let channelError = error as? ChannelError, case .connectTimeout = channelError {
            return .timeout("connecting")
        }
        return AMIConnectionHandler.classify(error)
    }
}

/// A channel's state as `Status` lists it.
public struct AMIChannelStatus: Sendable, Equatable {
    /// Asterisk's `ChannelState` number (6 = Up, 5 = Ringing, 4 = Ring, ...).
    public var state: Int?
    public var description: String

    public init(state: Int?, description: String) {
        self.state = state
        self.description = description
    }

    /// Answered: AST_STATE_UP.
    public var isUp: Bool { state == 6 }
}
