import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The client's state: the current connection, the Originates and actions in flight, who waits for a
/// connection. Confined to one event loop (the one every connection of this client runs on), so the hot
/// path takes no locks; public entry points hop onto the loop.
final class AMIClientCore: @unchecked Sendable {
    typealias Subscriber = OriginateSubscriber

    struct PendingAction {
        /// The response, then (for a list action) the events of its list, in order.
        var promise: EventLoopPromise<[AMIMessage]>
        var deadline: NIODeadline
        /// A list action (`Status`, ...) answers `EventList: start`, then events with its ActionID, then
        /// one with `EventList: Complete`: it stays pending until then.
        var collectsList: Bool
        var received: [AMIMessage] = []
    }

    let eventLoop: any EventLoop
    private let configuration: AMIConfiguration
    private let logger: Logger
    /// Different for every client instance: OriginateResponse goes to every session with `call` events,
    /// so another client (or our previous run) must never match our ActionIDs.
    let actionIDPrefix: String
    private var actionCounter: UInt64 = 0

    private var channel: (any Channel)?
    private var handler: AMIConnectionHandler?
    private var originates = OriginateTracker<Subscriber>()
    private var actions: [String: PendingAction] = [:]
    /// Streams waiting for the `Hangup` event of a channel spoold did not originate on this connection.
    private var hangupWatchers: [String: [UInt64: AsyncStream<AMIMessage>.Continuation]] = [:]
    private var watcherCounter: UInt64 = 0
    private var connectedWaiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
    /// Consumers of `AMIClient.connectionStates()`.
    private var stateSubscribers: [UInt64: AsyncStream<Bool>.Continuation] = [:]
    private var waiterCounter: UInt64 = 0
    private var flushPending = false
    private var sweepTask: RepeatedTask?
    private var runEndedWith: AMIConnectionError?
    private var running = false
    /// How the latest connection ended, for the run loop's backoff and `runOnce`'s error.
    private(set) var lastConnectionEnd = ConnectionEnd(becameReady: false, error: nil)

    /// Read from any thread (`AMIClient.isConnected`), written on the loop.
    let connectedFlag = NIOLockedValueBox(false)
    let serverVersion = NIOLockedValueBox<String?>(nil)

    init(eventLoop: any EventLoop, configuration: AMIConfiguration, logger: Logger) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.logger = logger
        self.actionIDPrefix = String(UInt32.random(in: 0...UInt32.max), radix: 36) + "-"
    }

    // MARK: Run lifecycle

    func runStarted() {
        eventLoop.preconditionInEventLoop()
        running = true
        runEndedWith = nil
        let interval = Self.sweepInterval(for: configuration.responseTimeout)
        sweepTask = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
            sweep(now: .now())
        }
    }

    func runEnded(with error: AMIConnectionError) {
        eventLoop.preconditionInEventLoop()
        running = false
        runEndedWith = error
        sweepTask?.cancel()
        sweepTask = nil
        let waiters = connectedWaiters.values
        connectedWaiters.removeAll()
        for waiter in waiters { waiter.resume(throwing: error) }
    }

    func attach(_ handler: AMIConnectionHandler) {
        self.handler = handler
        lastConnectionEnd = ConnectionEnd(becameReady: false, error: nil)
    }

    /// Stop taking actions at once, then Logoff; in-flight Originates still get their stages until the
    /// connection closes.
    func requestLogoff() {
        channel = nil
        connectedFlag.withLockedValue { $0 = false }
        handler?.logoff()
    }

    // MARK: Connection events (from the handler)

    func connectionReady(_ channel: any Channel, version: String, serverFilter: Bool) {
        self.channel = channel
        connectedFlag.withLockedValue { $0 = true }
        serverVersion.withLockedValue { $0 = version }
        logger.info("AMI connected", metadata: ["ami.version": "\(version)", "ami.serverFilter": "\(serverFilter)"])
        let waiters = connectedWaiters.values
        connectedWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
        for subscriber in stateSubscribers.values { subscriber.yield(true) }
    }

    func connectionClosed(by handler: AMIConnectionHandler) {
        guard self.handler === handler else { return }
        self.handler = nil
        lastConnectionEnd = ConnectionEnd(becameReady: handler.becameReady, error: handler.closeError)
        channel = nil
        connectedFlag.withLockedValue { $0 = false }
        if handler.becameReady {
            logger.warning("AMI connection closed", metadata: ["ami.cause": "\(handler.closeError.map { "\($0)" } ?? "logoff")"])
            for subscriber in stateSubscribers.values { subscriber.yield(false) }
        }
        // Nothing is re-sent: each Originate learns how far it got and the caller decides.
        for update in originates.connectionLost() {
            update.subscriber.deliver(update.stage)  // every stage of a lost connection is terminal
        }
        let pending = actions.values
        actions.removeAll()
        for action in pending { action.promise.fail(AMIActionError.connectionLost) }
        // A Hangup could now go unseen: each watcher's owner asks Asterisk again after the reconnect.
        let watchers = hangupWatchers.values.flatMap(\.values)
        hangupWatchers.removeAll()
        for watcher in watchers { watcher.finish() }
    }

    /// A response or event for our actions.
    func handle(_ message: AMIMessage) {
        if let event = message["Event"] {
            if event == "OriginateResponse" {
                guard let actionID = message["ActionID"] else { return }
                for update in originates.originateResponse(message, actionID: actionID) { deliver(update) }
            } else if event == "Hangup" {
                if let update = originates.hangup(message) { deliver(update) }
                if let uniqueid = message["Uniqueid"], let watchers = hangupWatchers.removeValue(forKey: uniqueid) {
                    for watcher in watchers.values {
                        watcher.yield(message)
                        watcher.finish()
                    }
                }
            } else if let actionID = message["ActionID"], var action = actions[actionID], action.collectsList,
                      !action.received.isEmpty {
                action.received.append(message)
                if message["EventList"]?.lowercased() == "complete" {
                    actions.removeValue(forKey: actionID)
                    action.promise.succeed(action.received)
                } else {
                    actions[actionID] = action
                }
            }
            return
        }
        guard let actionID = message["ActionID"] else { return }
        if originates.isTracked(actionID: actionID) {
            if let update = originates.response(message, actionID: actionID, now: .now()) { deliver(update) }
        } else if var action = actions.removeValue(forKey: actionID) {
            if action.collectsList, message["EventList"]?.lowercased() == "start" {
                action.received = [message]
                actions[actionID] = action
            } else {
                action.promise.succeed([message])
            }
        }
    }

    /// The next `Hangup` event for this Uniqueid; the stream ends without one if the connection drops.
    func watchHangup(of uniqueid: String, _ continuation: AsyncStream<AMIMessage>.Continuation) {
        eventLoop.preconditionInEventLoop()
        guard channel != nil else {
            continuation.finish()
            return
        }
        watcherCounter += 1
        let id = watcherCounter
        hangupWatchers[uniqueid, default: [:]][id] = continuation
        continuation.onTermination = { [self] _ in
            eventLoop.execute {
                self.hangupWatchers[uniqueid]?[id] = nil
                if self.hangupWatchers[uniqueid]?.isEmpty == true { self.hangupWatchers[uniqueid] = nil }
            }
        }
    }

    private func deliver(_ update: OriginateTracker<Subscriber>.Update) {
        update.subscriber.deliver(update.stage)
    }

    // MARK: Originate

    func startOriginate(_ request: OriginateRequest, subscriber: Subscriber) {
        eventLoop.preconditionInEventLoop()
        guard let channel else {
            subscriber.deliver(.notSent("not connected to AMI"))
            return
        }
        let actionID = nextActionID()
        var buffer = channel.allocator.buffer(capacity: 512)
        do {
            try AMIMessageWriter.write(request.message(actionID: actionID), to: &buffer, enforceRequestLimits: true)
        } catch {
            // Permanent: the same request would be refused again.
            subscriber.deliver(.rejected("invalid Originate: \(error)"))
            return
        }
        let now = NIODeadline.now()
        originates.sent(
            actionID: actionID,
            channelId: request.channelId,
            subscriber: subscriber,
            responseDeadline: now + TimeAmount(configuration.responseTimeout),
            resultWindow: TimeAmount(request.timeout) + TimeAmount(configuration.originateResponseMargin)
        )
        if case .stream(let continuation) = subscriber {
            continuation.onTermination = { [self] termination in
                guard case .cancelled = termination else { return }
                eventLoop.execute { self.originates.remove(actionID) }
            }
        }
        write(buffer, to: channel)
    }

    // MARK: Plain actions

    func send(_ message: AMIMessage, collectsList: Bool = false, promise: EventLoopPromise<[AMIMessage]>) {
        eventLoop.preconditionInEventLoop()
        guard let channel else {
            promise.fail(AMIActionError.notConnected)
            return
        }
        let actionID = nextActionID()
        var message = message
        message.append("ActionID", actionID)
        var buffer = channel.allocator.buffer(capacity: 128)
        do {
            try AMIMessageWriter.write(message, to: &buffer, enforceRequestLimits: true)
        } catch {
            promise.fail(AMIActionError.invalidRequest("\(error)"))
            return
        }
        actions[actionID] = PendingAction(
            promise: promise, deadline: .now() + TimeAmount(configuration.responseTimeout), collectsList: collectsList)
        write(buffer, to: channel)
    }

    // MARK: Waiting for a connection

    func addConnectedWaiter(_ continuation: CheckedContinuation<Void, any Error>) -> UInt64? {
        eventLoop.preconditionInEventLoop()
        if channel != nil {
            continuation.resume()
            return nil
        }
        if !running, let runEndedWith {
            continuation.resume(throwing: runEndedWith)
            return nil
        }
        waiterCounter += 1
        connectedWaiters[waiterCounter] = continuation
        return waiterCounter
    }

    func cancelConnectedWaiter(_ id: UInt64) {
        connectedWaiters.removeValue(forKey: id)?.resume(throwing: CancellationError())
    }

    /// Starts with the current state, then follows every login and every drop of a logged-in connection.
    func addStateSubscriber(_ subscriber: AsyncStream<Bool>.Continuation) {
        eventLoop.preconditionInEventLoop()
        waiterCounter += 1
        let id = waiterCounter
        stateSubscribers[id] = subscriber
        subscriber.onTermination = { [self] _ in
            eventLoop.execute { self.stateSubscribers.removeValue(forKey: id) }
        }
        subscriber.yield(channel != nil)
    }

    // MARK: Internals

    /// Writes are flushed once per loop turn (or read burst), so thousands of Originates submitted
    /// together leave in few syscalls.
    private func write(_ buffer: ByteBuffer, to channel: any Channel) {
        channel.write(buffer, promise: nil)
        guard !flushPending else { return }
        flushPending = true
        eventLoop.assumeIsolated().execute { [self] in flushIfNeeded() }
    }

    func flushIfNeeded() {
        guard flushPending else { return }
        flushPending = false
        channel?.flush()
    }

    private func nextActionID() -> String {
        actionCounter += 1
        return actionIDPrefix + String(actionCounter, radix: 36)
    }

    private func sweep(now: NIODeadline) {
        for update in originates.expire(now: now) { deliver(update) }
        var expired: [String] = []
        for (actionID, action) in actions where action.deadline <= now { expired.append(actionID) }
        for actionID in expired {
            actions.removeValue(forKey: actionID)?.promise.fail(AMIActionError.responseTimeout)
        }
    }

    static func sweepInterval(for responseTimeout: Duration) -> TimeAmount {
        let quarter = TimeAmount(responseTimeout).nanoseconds / 4
        return .nanoseconds(min(max(quarter, 10_000_000), 1_000_000_000))
    }
}

/// Who hears one Originate's stages: the stream `AMIClient.originate(_:)` returns, or a function the loop
/// calls (`originate(_:onStage:)`: no stream, no task, no hop of its own per call).
enum OriginateSubscriber: Sendable {
    case stream(AsyncStream<OriginateStage>.Continuation)
    case function(@Sendable (OriginateStage) -> Void)

    /// Hands on one stage; a terminal one is the last (the stream ends with it).
    func deliver(_ stage: OriginateStage) {
        switch self {
        case .stream(let continuation):
            continuation.yield(stage)
            if stage.isTerminal { continuation.finish() }
        case .function(let onStage):
            onStage(stage)
        }
    }
}

struct ConnectionEnd: Sendable {
    var becameReady: Bool
    var error: AMIConnectionError?
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
