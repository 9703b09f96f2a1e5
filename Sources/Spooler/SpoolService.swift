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
        let (watcher, engine) = (self.watcher, self.engine)
        // The watch is set up and outgoing/ listed before the engine starts, and the engine takes that listing as
        // its own: a large spool is listed once, not twice at the same time, and no change falls between the two.
        // The watcher's thread posts into the engine's inbox itself: no task between them.
        let (listing, listed) = AsyncStream.makeStream(of: Never.self)
        let watching = Task {
            await watcher.run(dotNamesAtStart: { engine.takeDotNames(ofFirstListing: $0) }) { batch in
                engine.apply(batch)
                listed.finish()  // the first batch is in the inbox (later calls find it finished already)
            }
            listed.finish()  // the watch ended without a batch: the engine lists outgoing/ itself
        }
        defer {
            watching.cancel()
            events?.finish()
        }
        for await _ in listing {}
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
