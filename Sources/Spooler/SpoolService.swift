import Logging
import ServiceLifecycle
import SpoolWatcher

/// `spoold run` as a service: the watcher feeds the engine's inbox; a graceful shutdown (SIGTERM/SIGINT)
/// cancels the engine, which stops starting attempts and lets the calls in flight end.
public struct SpoolService: Service, CustomStringConvertible {
    public let engine: SpoolEngine
    private let watcher: SpoolWatcher
    private let events: AsyncStream<[EngineEvent]>.Continuation?

    /// `events`, when given, receives what happens to each file and is finished when the engine stops.
    public init(
        configuration: EngineConfiguration,
        backend: any CallBackend,
        watchMode: SpoolWatcher.Mode,
        logger: Logger,
        events: AsyncStream<[EngineEvent]>.Continuation? = nil
    ) throws(SystemError) {
        // The engine creates outgoing/ first, so the watcher always finds it.
        engine = try SpoolEngine(configuration: configuration, backend: backend, logger: logger, events: events)
        watcher = SpoolWatcher(directory: configuration.outgoingPath, mode: watchMode, logger: logger)
        self.events = events
    }

    public var description: String { "SpoolService(\(engine.configuration.outgoingPath))" }

    public func run() async throws {
        let engine = self.engine
        // The watch is set up and outgoing/ listed before the engine starts, and the engine takes that listing as
        // its own: a large spool is listed once, not twice at the same time, and no change falls between the two.
        var changes = watcher.makeAsyncIterator()
        if let first = await changes.next() { engine.apply(first) }
        let watching = Task { [changes] in
            var changes = changes
            while let batch = await changes.next() { engine.apply(batch) }
        }
        defer {
            watching.cancel()
            events?.finish()
        }
        await cancelWhenGracefulShutdown {
            await engine.run(listedByWatcher: true)
        }
    }
}

/// The watcher's changes in the core's words.
extension SpoolStateMachine.Change {
    init(_ change: SpoolChange) {
        switch change {
        case .appeared(let name): self = .appeared(name)
        case .changed(let name): self = .changed(name)
        case .removed(let name): self = .removed(name)
        case .rescan(let names, let reason):
            switch reason {
            case .initial: self = .rescan(names, reason: .initial)
            case .overflow: self = .rescan(names, reason: .overflow)
            case .directoryRecreated: self = .rescan(names, reason: .directoryRecreated)
            case .poll: self = .rescan(names, reason: .poll)
            }
        }
    }
}
