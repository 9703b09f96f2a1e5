import Logging
import ServiceLifecycle
import Spooler
import SystemdNotify
import UnixSignals

/// Reports start-up and reloads: READY=1 once the engine has scheduled its initial listing, and
/// RELOADING=1 … READY=1 around each SIGHUP reload. Runs with or without systemd (SIGHUP must never
/// kill spoold), and reads the engine's event stream to its end so that the stream never piles up.
struct ReadyAndReloadService: Service, CustomStringConvertible {
    let notifier: SystemdNotifier?
    let engine: SpoolEngine
    let events: AsyncStream<[EngineEvent]>
    /// SIGHUP, trapped before the service group starts (its default action would kill spoold).
    let hangups: UnixSignalsSequence
    /// Re-reads the configuration; the notifications around it are this service's job.
    let reload: @Sendable () async -> Void
    let logger: Logger

    var description: String { "ReadyAndReload(systemd: \(notifier.map { "\($0.address)" } ?? "no"))" }

    func run() async throws {
        let (signals, notifier, engine, events, reload, logger) = (hangups, notifier, engine, events, reload, logger)
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await batch in events {
                        guard batch.contains(where: { if case .ready = $0 { true } else { false } }), let notifier else { continue }
                        notifier.ready(status: "ready: \(await engine.activity())")
                        logger.debug("told systemd READY=1")
                    }
                }
                group.addTask {
                    for await _ in signals {
                        logger.notice("SIGHUP: reloading")
                        notifier?.reloading()
                        await reload()
                        notifier?.ready(status: "reloaded: \(await engine.activity())")
                    }
                }
            }
        }
    }
}

extension RunCommand {
    /// The services that keep systemd informed, listed after the spool service so that they shut down
    /// first: STOPPING=1 goes out as soon as SIGTERM arrives.
    func systemdServices(
        engine: SpoolEngine,
        events: AsyncStream<[EngineEvent]>,
        hangups: UnixSignalsSequence,
        logger: Logger,
        reload: @escaping @Sendable () async -> Void
    ) -> [any Service] {
        let notifier = SystemdNotifier.fromEnvironment(logger: logger)
        var services: [any Service] = [
            ReadyAndReloadService(notifier: notifier, engine: engine, events: events, hangups: hangups, reload: reload,
                                  logger: logger)
        ]
        if let notifier {
            let watchdog = SystemdNotifier.watchdogPetInterval()
            logger.info("systemd notifications go to \(notifier.address)\(watchdog.map { "; watchdog fed every \($0)" } ?? "")")
            let grace = engine.configuration.shutdownGrace
            services.append(
                WatchdogService(
                    notifier: notifier, watchdogInterval: watchdog,
                    stoppingStatus: "stopping: no new attempts; calls in flight get up to \(grace) to end",
                    logger: logger
                ) { "\(await engine.activity())" })
        }
        return services
    }
}
