import ServiceLifecycle
import Spooler

/// Passes each batch of engine events on to several readers, in order, and finishes them when the engine's stream
/// ends. It ignores graceful shutdown on purpose: the engine drains after SIGTERM, and what it reports
/// meanwhile must still reach the result log, the hook and systemd.
struct EventFanOut: Service {
    let source: AsyncStream<[EngineEvent]>
    let sinks: [AsyncStream<[EngineEvent]>.Continuation]

    func run() async {
        for await batch in source {
            for sink in sinks { sink.yield(batch) }
        }
        for sink in sinks { sink.finish() }
    }
}

/// The services that read the engine's events (the fan-out, metrics, status, result log, hook) as one
/// service. They end by themselves once the engine's stream ends, after its drain; a service group treats
/// a service that returns before its turn to stop as a failure (exit 1), so this one returns only when
/// its graceful shutdown has come as well.
struct EngineEventReaders: Service, CustomStringConvertible {
    let parts: [any Service]

    var description: String { "EngineEventReaders(\(parts.map { "\($0)" }.joined(separator: ", ")))" }

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for part in parts { group.addTask { try await part.run() } }
            try await group.waitForAll()
        }
        try? await gracefulShutdown()
    }
}
