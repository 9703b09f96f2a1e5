import AMI
import Spooler
import Logging
import ServiceLifecycle
import Synchronization

/// Calls placed through several Asterisk servers: one AMI client per server (over the manager port or
/// Asterisk's HTTP server, as each server is configured), each with its own limits.
/// `ServerPicker` decides which server gets a call; this class only feeds it the connection states and
/// the clock, hands the call to that server's `AMIBackend`, and wakes the engine when a server logs in or
/// a full server frees a slot.
///
/// An attempt belongs to the server it was sent to, for good: when that connection drops, the attempt
/// waits for the same server to say what became of the call (contract §3). It is never re-sent to
/// another server while its fate is unknown, so no call is dialled twice.
public final class AMIServerPool: CallBackend {
    public let servers: [AMIServer]
    public let selection: AMIServerSelection
    let clients: [any AMIConnection]
    private let backends: [AMIBackend]
    private let clock: any SpoolClock
    private let logger: Logger
    private let pollInterval: Duration
    private let state: Mutex<State>

    private struct State {
        var picker: ServerPicker
        /// The engine's wake-up (`wakeWhenReady`).
        var wake: (@Sendable () -> Void)?
        /// The engine was told to wait for the wake-up: every connected server was full.
        var engineWaits = false
        /// What the last ModuleCheck said per server, so each change is logged once.
        var spoolModule: [SpoolModuleState?]
    }

    /// - Parameters:
    ///   - clock: the engine's clock: the per-server Originate rates are kept on it.
    ///   - pollInterval, lookupAttempts: as for `AMIBackend` (following a call whose connection dropped).
    ///   - makeConnection: each server's client; `spoold run` passes one on the event loop of its main
    ///     thread, instead of NIO's singleton group and its thread.
    public init(
        servers: [AMIServer],
        selection: AMIServerSelection,
        clock: any SpoolClock = SystemSpoolClock(),
        logger: Logger,
        pollInterval: Duration = .seconds(1),
        lookupAttempts: Int = 30,
        makeConnection: (AMIConfiguration, Logger) -> any AMIConnection = { makeAMIConnection(configuration: $0, logger: $1) }
    ) throws(AMIServerListError) {
        try AMIServerListError.check(servers)
        self.servers = servers
        self.selection = selection
        self.clock = clock
        self.logger = logger
        self.pollInterval = pollInterval
        self.clients = servers.map { server in
            var serverLogger = logger
            serverLogger[metadataKey: "ami.server"] = "\(server.name)"
            return makeConnection(server.configuration, serverLogger)
        }
        self.backends = clients.map { AMIBackend(client: $0, pollInterval: pollInterval, lookupAttempts: lookupAttempts) }
        self.state = Mutex(State(picker: ServerPicker(selection: selection, servers: servers),
                                 spoolModule: Array(repeating: nil, count: servers.count)))
    }

    /// One service per server (its connection, reconnects, and the checks at each login), for the
    /// `ServiceGroup` of `spoold run`. List them before the spool service: the group stops services in
    /// reverse order, and calls in flight need their connection while the engine drains.
    public var services: [any Service] {
        servers.indices.map { AMIServerService(pool: self, index: $0) }
    }

    // MARK: CallBackend

    /// Some server is logged in. Whether one has room for a call is `nextCallAllowed`.
    public var isReady: Bool { clients.contains { $0.isConnected } }

    public func nextCallAllowed(now: SpoolInstant) -> SpoolInstant? {
        state.withLock { state in
            refreshConnections(&state)
            let allowed = state.picker.nextCallAllowed(now: now)
            if allowed == nil { state.engineWaits = true }
            return allowed
        }
    }

    public func wakeWhenReady(_ wake: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { $0.wake = wake }
        return true
    }

    public func place(_ request: CallRequest) -> AsyncStream<CallStage> {
        guard let index = pickServer(for: request) else {
            return AsyncStream { continuation in
                continuation.yield(.notPlaced(Self.noServer))
                continuation.finish()
            }
        }
        return backends[index].place(request, whenOver: { [weak self] in self?.callOver(on: index) })
    }

    public func place(_ request: CallRequest, report: @escaping CallReport) {
        guard let index = pickServer(for: request) else {
            report(.notPlaced(Self.noServer))
            report(nil)
            return
        }
        backends[index].place(request, whenOver: { [weak self] in self?.callOver(on: index) }, report: report)
    }

    static let noServer = "no AMI server can take the call (all disconnected or at their limits)"

    /// The server for the next call. nil: the engine asked `nextCallAllowed` first, so this is a server
    /// lost in between.
    private func pickServer(for request: CallRequest) -> Int? {
        let now = clock.now()
        let chosen = state.withLock { state -> Int? in
            refreshConnections(&state)
            return state.picker.pick(now: now)
        }
        if let chosen { logger.debug("ChannelId \(request.channelId) goes to AMI server \(servers[chosen].name)") }
        return chosen
    }

    /// Asks every server: true if any has the channel; nil if none has it but some could not answer
    /// (not connected, or the question failed), since the call may be on that one; false only when
    /// every server said no.
    public func channelExists(_ channelId: String) async -> Bool? {
        await withTaskGroup(of: Bool?.self) { group in
            for backend in backends {
                group.addTask { await backend.channelExists(channelId) }
            }
            var unanswered = false
            for await answer in group {
                switch answer {
                case true?:
                    group.cancelAll()
                    return true
                case false?:
                    continue
                case nil:
                    unanswered = true
                }
            }
            return unanswered ? nil : false
        }
    }

    /// Asks every connected server to hang the channel up (the call is on one of them; the others answer
    /// `No such channel`, which is no error). Throws only when no server could be asked.
    public func hangUp(channelId: String) async throws {
        let failures = await withTaskGroup(of: (any Error)?.self) { group in
            for backend in backends {
                group.addTask {
                    do {
                        try await backend.hangUp(channelId: channelId)
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            var failures: [any Error] = []
            for await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
        if failures.count == backends.count, let first = failures.first { throw first }
    }

    /// Follows the call on the server that has it, so that whether it was answered comes from that
    /// server's view of the channel. Gone everywhere: it ended (unanswered, as far as spoold can tell).
    public func awaitHangup(of channelId: String) -> AsyncStream<CallStage> {
        AsyncStream { continuation in
            let task = Task { [self] in
                while !Task.isCancelled {
                    var unanswered = false
                    for backend in backends {
                        switch await backend.channelExists(channelId) {
                        case true?:
                            for await stage in backend.awaitHangup(of: channelId) { continuation.yield(stage) }
                            continuation.finish()
                            return
                        case false?:
                            continue
                        case nil:
                            unanswered = true
                        }
                    }
                    if !unanswered {
                        // Gone before the first look: answered if the recovery check saw it Up.
                        if backends.contains(where: { $0.takeSeenAnswered(channelId) }) {
                            continuation.yield(.answered(channel: channelId))
                        }
                        continuation.yield(.hungUp)
                        break
                    }
                    // A server that cannot answer might hold it: ask again.
                    try? await Task.sleep(for: pollInterval)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    // MARK: State for status and metrics

    public struct ServerStatus: Sendable, Equatable {
        public var name: String
        public var connected: Bool
        /// Calls placed through it and not over yet.
        public var inFlight: Int
        /// What ModuleCheck said at the last login; nil before the first answer.
        public var spoolModule: SpoolModuleState?
    }

    public func status() -> [ServerStatus] {
        state.withLock { state in
            servers.indices.map { index in
                ServerStatus(name: servers[index].name, connected: clients[index].isConnected,
                             inFlight: state.picker.inFlight(index), spoolModule: state.spoolModule[index])
            }
        }
    }

    // MARK: Internals

    private func refreshConnections(_ state: inout State) {
        for index in clients.indices {
            state.picker.setConnected(index, clients[index].isConnected)
        }
    }

    private func callOver(on index: Int) {
        let wake = state.withLock { state -> (@Sendable () -> Void)? in
            state.picker.finished(index)
            guard state.engineWaits else { return nil }
            state.engineWaits = false
            return state.wake
        }
        wake?()
    }

    /// Runs for as long as the server's service: at each login, wakes the engine (files may be waiting
    /// for a server) and asks whether that Asterisk runs its own spool.
    func watchConnection(of index: Int) async {
        for await connected in clients[index].connectionStates() where connected {
            let wake = state.withLock { state -> (@Sendable () -> Void)? in
                state.engineWaits = false
                return state.wake
            }
            wake?()
            await checkSpoolModule(on: index)
        }
    }

    func checkSpoolModule(on index: Int) async {
        let server = servers[index]
        let response: AMIMessage
        do {
            response = try await clients[index].send(SpoolModuleState.request)
        } catch {
            logger.debug("AMI server \(server.name): ModuleCheck got no answer (\(error)); asked again at the next login")
            return
        }
        let found = SpoolModuleState(response: response)
        let changed = state.withLock { state -> Bool in
            defer { state.spoolModule[index] = found }
            return state.spoolModule[index] != found
        }
        guard changed else { return }
        let address = "\(server.configuration.host):\(server.configuration.port)"
        guard let advice = found.advice(server: server.name, address: address) else {
            logger.info("AMI server \(server.name) (\(address)): Asterisk's own call-file spool (pbx_spool) is not loaded there")
            return
        }
        if advice.warning {
            logger.warning("\(advice.text)")
        } else {
            logger.notice("\(advice.text)")
        }
    }
}

/// One server of the pool as a service: its AMI connection with reconnects, and the work done at each
/// login. Runs until cancelled or a graceful shutdown.
struct AMIServerService: Service, CustomStringConvertible {
    let pool: AMIServerPool
    let index: Int

    var description: String {
        let server = pool.servers[index]
        let over = server.configuration.transport == .tcp ? "" : "http "
        return "AMIServer(\(server.name) \(over)\(server.configuration.host):\(server.configuration.port))"
    }

    func run() async throws {
        let pool = self.pool
        let index = self.index
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await pool.clients[index].run() }
                group.addTask { await pool.watchConnection(of: index) }
                // The client returns only once cancelled (after its Logoff); the watcher goes with it.
                try await group.next()
                group.cancelAll()
            }
        }
    }
}
