import AMI
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// An AMI server that answers as Asterisk 22 does in the transcripts, for tests and benchmarks.
/// All sessions and calls live on one event loop, so its state needs no locks; the few values read from
/// other threads (behaviour, records) sit in locked boxes.
public final class AMITestServer: Sendable {
    public let configuration: AMITestServerConfiguration
    public let port: Int
    let state: ServerState
    private let serverChannel: any Channel
    private let ownedGroup: MultiThreadedEventLoopGroup?

    /// Starts listening. Without a group the server runs on its own single thread.
    public static func start(
        configuration: AMITestServerConfiguration = AMITestServerConfiguration(),
        eventLoopGroup: (any EventLoopGroup)? = nil,
        onOriginate: (@Sendable (OriginateRecord) -> Void)? = nil
    ) async throws -> AMITestServer {
        let ownedGroup = eventLoopGroup == nil ? MultiThreadedEventLoopGroup(numberOfThreads: 1) : nil
        let loop = (eventLoopGroup ?? ownedGroup!).next()
        let state = ServerState(eventLoop: loop, configuration: configuration, onOriginate: onOriginate)
        do {
            let sslContext = try configuration.tls.map { try NIOSSLContext(configuration: $0) }
            let channel = try await ServerBootstrap(group: loop)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let sslContext {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                        }
                        try channel.pipeline.syncOperations.addHandler(TestServerSession(state: state))
                    }
                }
                .bind(host: configuration.host, port: configuration.port)
                .get()
            return AMITestServer(configuration: configuration, port: channel.localAddress?.port ?? configuration.port,
                                 state: state, serverChannel: channel, ownedGroup: ownedGroup)
        } catch {
            try? await ownedGroup?.shutdownGracefully()
            throw error
        }
    }

    private init(configuration: AMITestServerConfiguration, port: Int, state: ServerState,
                 serverChannel: any Channel, ownedGroup: MultiThreadedEventLoopGroup?) {
        self.configuration = configuration
        self.port = port
        self.state = state
        self.serverChannel = serverChannel
        self.ownedGroup = ownedGroup
    }

    public var behaviour: AMITestServerConfiguration.Behaviour {
        state.behaviour.withLockedValue { $0 }
    }

    public func setBehaviour(_ change: (inout AMITestServerConfiguration.Behaviour) -> Void) {
        state.behaviour.withLockedValue { change(&$0) }
    }

    /// Every Originate received so far, in order (while `recordOriginates` is on).
    public var originates: [OriginateRecord] {
        state.records.withLockedValue { $0 }
    }

    /// The most channels up at once since the start (or the last reset): the calls in flight as the
    /// PBX sees them, which fault tests compare with spoold's `--max-concurrent`.
    public var peakLiveChannels: Int {
        state.peakChannels.withLockedValue { $0 }
    }

    /// How many connections were accepted since the start.
    public var connectionsAccepted: Int {
        state.connectionsAccepted.withLockedValue { $0 }
    }

    /// Drops every client connection at once, as a crashing or restarting Asterisk would. Calls go on.
    public func closeAllConnections() async {
        let state = self.state
        try? await state.eventLoop.submit { state.closeAllSessions() }.get()
    }

    /// The `Channel` header of every `Hangup` action received so far (a name or a Uniqueid), in order.
    public var hangupRequests: [String] {
        state.hangupRequests.withLockedValue { $0 }
    }

    /// Whether a channel with this Uniqueid is up (ringing or answered) right now.
    public func channelIsUp(_ uniqueid: String) async -> Bool {
        let state = self.state
        return (try? await state.eventLoop.submit { state.channels[uniqueid] != nil }.get()) ?? false
    }

    /// Whether a `Status` reply has shown this channel Up: a client that asks after a dropped connection has
    /// then learnt the call was answered, so a test can end the call knowing what spoold knows.
    public func statusShowedUp(_ uniqueid: String) -> Bool {
        state.statusShownUp.withLockedValue { $0.contains(uniqueid) }
    }

    /// Hangs a channel up from the far end now (its Hangup event goes out as for a normal hangup), so a
    /// test decides when a call ends instead of racing its talk time. False when no such channel is up.
    @discardableResult
    public func hangUp(_ uniqueid: String) async -> Bool {
        let state = self.state
        return (try? await state.eventLoop.submit { () -> Bool in
            guard let channel = state.channels[uniqueid] else { return false }
            state.hangUp(channel)
            return true
        }.get()) ?? false
    }

    public func stop() async throws {
        await closeAllConnections()
        try await serverChannel.close()
        try await ownedGroup?.shutdownGracefully()
    }
}

/// The server's shared state, confined to its event loop (hence `@unchecked Sendable`).
final class ServerState: @unchecked Sendable {
    struct LiveChannel {
        var name: String
        var uniqueid: String
        var answered: Bool
        /// The Originate that made it, for the Hangup event's caller ID.
        var request: AMIMessage
        /// The async Originate's ActionID, for its OriginateResponse when the test hangs it up ringing.
        var actionID: String? = nil
    }

    let eventLoop: any EventLoop
    let configuration: AMITestServerConfiguration
    let onOriginate: (@Sendable (OriginateRecord) -> Void)?
    let behaviour: NIOLockedValueBox<AMITestServerConfiguration.Behaviour>
    let records = NIOLockedValueBox<[OriginateRecord]>([])
    let connectionsAccepted = NIOLockedValueBox(0)
    let peakChannels = NIOLockedValueBox(0)
    /// The `Channel` of every `Hangup` action received, in order.
    let hangupRequests = NIOLockedValueBox<[String]>([])
    /// Uniqueids of channels that a `Status` reply showed Up.
    let statusShownUp = NIOLockedValueBox<Set<String>>([])

    var sessions: [ObjectIdentifier: TestServerSession] = [:]
    /// Sessions of the HTTP variant, which take the same call events.
    var eventSinks: [ObjectIdentifier: any ServerEventSink] = [:]
    var channels: [String: LiveChannel] = [:]
    private var originateCount = 0
    private var channelCount = 0
    /// Asterisk-like Uniqueids are `<epoch seconds>.<n>`.
    let startTime = Int(Date().timeIntervalSince1970)

    init(eventLoop: any EventLoop, configuration: AMITestServerConfiguration, onOriginate: (@Sendable (OriginateRecord) -> Void)?) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.onOriginate = onOriginate
        self.behaviour = NIOLockedValueBox(configuration.behaviour)
    }

    func register(_ session: TestServerSession) -> Int {
        sessions[ObjectIdentifier(session)] = session
        return connectionsAccepted.withLockedValue { $0 += 1; return $0 }
    }

    func unregister(_ session: TestServerSession) {
        sessions.removeValue(forKey: ObjectIdentifier(session))
    }

    func closeAllSessions() {
        for session in sessions.values { session.close() }
    }

    func record(_ message: AMIMessage, connection: Int, keep: Bool) {
        originateCount += 1
        guard keep || onOriginate != nil else { return }
        let record = OriginateRecord(sequence: originateCount, connection: connection, message: message)
        if keep { records.withLockedValue { $0.append(record) } }
        onOriginate?(record)
    }

    func addChannel(_ channel: LiveChannel) {
        channels[channel.uniqueid] = channel
        let count = channels.count
        peakChannels.withLockedValue { $0 = max($0, count) }
    }

    func nextChannelNumber() -> Int {
        channelCount += 1
        return channelCount
    }

    /// Like Asterisk, call events go to every logged-in session that takes them, not only the asker.
    func broadcast(_ event: AMIMessage) {
        for session in sessions.values { session.sendEvent(event) }
        for sink in eventSinks.values { sink.receive(event) }
    }
}

/// Anything besides a TCP session that takes the server's call events (an HTTP manager session).
protocol ServerEventSink: AnyObject {
    func receive(_ event: AMIMessage)
}
