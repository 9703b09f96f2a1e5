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
        // The watcher's thread posts into the engine's inbox itself: no task between them.
        let watching = Task {
            await watcher.run { engine.apply($0) }
        }
        defer {
            watching.cancel()
            events?.finish()
        }
        await cancelWhenGracefulShutdown {
            await engine.run()
        }
    }
}
