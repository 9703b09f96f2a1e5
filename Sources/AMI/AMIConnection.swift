import Logging
import NIOCore
import NIOPosix

/// What the dialling engine needs from AMI, whichever transport carries it: a client that logs in and
/// stays logged in, places async Originates and follows them, and looks channels up after a drop.
/// `AMIClient` (TCP) and `AMIHTTPClient` (`/rawman`) both give the same stages for the same call.
public protocol AMIConnection: Sendable {
    var configuration: AMIConfiguration { get }
    /// True while logged in and ready for actions.
    var isConnected: Bool { get }
    /// The server's AMI version where the transport tells it (the TCP banner); nil otherwise.
    var serverVersion: String? { get }
    /// `true` at each login, `false` when a logged-in session ends, starting with the state at the time
    /// of the call; for work that belongs to each session (checks at login, waking whoever waits for a
    /// server). Ends when the consumer stops iterating.
    func connectionStates() -> AsyncStream<Bool>
    /// Sends one action (the client adds its ActionID) and returns its response.
    func send(_ message: AMIMessage) async throws -> AMIMessage
    /// Logs in, stays logged in and comes back after failures until the task is cancelled.
    func run() async throws
    /// Logs in once and stays until cancelled; throws why it failed or ended.
    func runOnce() async throws
    /// Returns once logged in; throws if the run ends first.
    func waitUntilConnected() async throws
    /// Sends one async Originate and follows it; never re-sent.
    func originate(_ request: OriginateRequest) -> AsyncStream<OriginateStage>
    /// The same Originate, its stages handed to `onStage` in order (the last one terminal), from any
    /// thread; `onStage` must not block. For the engine's hot path: `AMIClient` does it without a stream
    /// or a task per call.
    func originate(_ request: OriginateRequest, onStage: @escaping @Sendable (OriginateStage) -> Void)
    /// Whether Asterisk still has a channel with this Uniqueid (a ChannelId we assigned).
    func channelExists(_ channelId: String) async throws -> Bool
    /// A channel's state by Uniqueid (Up or still ringing); nil when Asterisk has no such channel.
    func channelStatus(_ channelId: String) async throws -> AMIChannelStatus?
    /// The `Hangup` event of a channel this client did not originate; the stream ends without one if the
    /// connection or session ends. The watch is in place when this returns.
    func hangupEvent(of uniqueid: String) async -> AsyncStream<AMIMessage>
}

extension AMIConnection {
    /// Follows the stream in a task of its own (the HTTP client; scripted connections in tests).
    public func originate(_ request: OriginateRequest, onStage: @escaping @Sendable (OriginateStage) -> Void) {
        let stages = originate(request)
        Task {
            for await stage in stages { onStage(stage) }
        }
    }
}

extension AMIClient: AMIConnection {}

/// The client for the configured transport.
public func makeAMIConnection(
    configuration: AMIConfiguration,
    eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
    logger: Logger
) -> any AMIConnection {
    switch configuration.transport {
    case .tcp:
        return AMIClient(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
    case .http:
        return AMIHTTPClient(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
    }
}
