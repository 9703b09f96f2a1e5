import Logging
import ServiceLifecycle
import Spooler

/// Consumes the engine's events and feeds, in one direction, the metrics, the status board, the result
/// log and the on_finish hook; samples the queue and the servers about once a second for the gauges and
/// `<spool>/.spoold.status`.
///
/// It runs until the event stream ends, that is until the engine has stopped and drained, and ignores
/// the graceful-shutdown signal on purpose: listed before the spool service, it is shut down after it,
/// so the files finished during the drain still reach the result log and the hook. Then it tells the
/// writer and the hook runner that nothing more comes.
public final class ObservabilityService: Service, Sendable, CustomStringConvertible {
    private let events: AsyncStream<[EngineEvent]>
    private let queue: @Sendable () async -> QueueSnapshot
    private let connections: @Sendable () -> [ServerConnection]
    public let metrics: SpoolMetrics
    public let board: StatusBoard
    private let resultLog: ResultLogWriter?
    private let hooks: OnFinishRunner?
    private let statusFile: StatusFile?
    private let clock: any SpoolClock
    private let sampleInterval: Duration
    private let logger: Logger

    public init(
        events: AsyncStream<[EngineEvent]>,
        queue: @escaping @Sendable () async -> QueueSnapshot,
        connections: @escaping @Sendable () -> [ServerConnection],
        metrics: SpoolMetrics,
        board: StatusBoard,
        resultLog: ResultLogWriter? = nil,
        hooks: OnFinishRunner? = nil,
        statusFile: StatusFile? = nil,
        clock: any SpoolClock = SystemSpoolClock(),
        sampleInterval: Duration = .seconds(1),
        logger: Logger
    ) {
        self.events = events
        self.queue = queue
        self.connections = connections
        self.metrics = metrics
        self.board = board
        self.resultLog = resultLog
        self.hooks = hooks
        self.statusFile = statusFile
        self.clock = clock
        self.sampleInterval = sampleInterval
        self.logger = logger
    }

    public var description: String { "ObservabilityService" }

    public func run() async {
        let sampler = Task {
            var written: StatusSnapshot?
            var failing = false
            while !Task.isCancelled {
                let snapshot = await sample()
                if let statusFile, snapshot != written {
                    do {
                        try statusFile.write(snapshot)
                        written = snapshot
                        failing = false
                    } catch {
                        if !failing { logger.warning("cannot write \(statusFile.path): \(error); `spoold status --spool-dir` will not see this daemon's figures") }
                        failing = true
                    }
                }
                try? await Task.sleep(for: sampleInterval)
            }
        }
        var tracker = ResultTracker()
        let tracksResults = resultLog != nil || hooks != nil
        for await batch in events {
            for event in batch {
                metrics.record(event)
                board.record(event)
                guard tracksResults, let result = tracker.consume(event, now: clock.now()) else { continue }
                let line = result.jsonLine
                resultLog?.submit(line)
                hooks?.submit(result, json: line)
            }
        }
        sampler.cancel()
        await sampler.value
        resultLog?.finish()
        hooks?.finish()
        statusFile?.remove()
    }

    /// Samples the queue and the servers into the gauges and the status board.
    @discardableResult
    public func sample() async -> StatusSnapshot {
        let queue = await self.queue()
        let servers = connections()
        metrics.record(queue)
        metrics.record(servers)
        return board.record(queue, servers: servers)
    }
}
