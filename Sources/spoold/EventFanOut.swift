import ServiceLifecycle
import Spooler

/// Passes each engine event on to several readers, in order, and finishes them when the engine's stream
/// ends. It ignores graceful shutdown on purpose: the engine drains after SIGTERM, and what it reports
/// meanwhile must still reach the result log, the hook and systemd.
struct EventFanOut: Service {
    let source: AsyncStream<EngineEvent>
    let sinks: [AsyncStream<EngineEvent>.Continuation]

    func run() async {
        for await event in source {
            for sink in sinks { sink.yield(event) }
        }
        for sink in sinks { sink.finish() }
    }
}
