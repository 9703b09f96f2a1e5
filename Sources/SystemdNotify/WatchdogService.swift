import Logging
import ServiceLifecycle
import Synchronization

/// The long-running half of the systemd protocol: every tick it reports the probe's status text (with
/// `WATCHDOG=1` when systemd set a watchdog), but only while the probe keeps answering; on a graceful
/// shutdown (SIGTERM) it sends `STOPPING=1` at once and ends.
///
/// List it last in the ServiceGroup: services shut down in reverse order, so STOPPING goes out as soon as
/// the signal arrives, before the engine starts draining its calls.
public struct WatchdogService: Service, CustomStringConvertible {
    public typealias Probe = @Sendable () async -> String

    let notifier: SystemdNotifier
    let interval: Duration
    let petsWatchdog: Bool
    let probe: Probe
    let stoppingStatus: String
    let logger: Logger

    /// - Parameters:
    ///   - watchdogInterval: how often to pet (``SystemdNotifier/watchdogPetInterval(_:pid:)``); nil when
    ///     systemd set no watchdog, and then only STATUS is reported.
    ///   - statusInterval: how often STATUS is refreshed at most; the watchdog may make it more often.
    ///   - probe: asks the engine what it is doing; its answer is the STATUS text and its answering is
    ///     what "alive" means.
    public init(
        notifier: SystemdNotifier,
        watchdogInterval: Duration?,
        statusInterval: Duration = .seconds(10),
        stoppingStatus: String = "stopping",
        logger: Logger,
        probe: @escaping Probe
    ) {
        self.notifier = notifier
        self.interval = watchdogInterval.map { min($0, statusInterval) } ?? statusInterval
        self.petsWatchdog = watchdogInterval != nil
        self.stoppingStatus = stoppingStatus
        self.logger = logger
        self.probe = probe
    }

    public var description: String { "SystemdWatchdog(\(notifier.address), every \(interval))" }

    public func run() async throws {
        let notifier = self.notifier
        let stoppingStatus = self.stoppingStatus
        await withGracefulShutdownHandler {
            do {
                try await cancelWhenGracefulShutdown { try await self.tickUntilCancelled() }
            } catch {
                // Cancelled by the graceful shutdown (or the group): the only way out of the loop.
            }
        } onGracefulShutdown: {
            notifier.stopping(status: stoppingStatus)
        }
    }

    private func tickUntilCancelled() async throws {
        let machine = SharedStateMachine()
        while true {
            let action = machine.state.withLock { $0.tick() }
            if let status = action.report {
                if petsWatchdog {
                    notifier.watchdog(status: status)
                } else {
                    notifier.status(status)
                }
            }
            if action.silentTicks == 1 {
                logger.warning("the engine has not answered for \(interval); the watchdog is not being fed, and systemd restarts spoold if this lasts")
            }
            if action.startProbe {
                let probe = self.probe
                Task {
                    let status = await probe()
                    machine.state.withLock { $0.answered(status) }
                }
            }
            try await Task.sleep(for: interval)
        }
    }
}

/// The state machine shared between the ticker and the probe tasks it starts.
private final class SharedStateMachine: Sendable {
    let state = Mutex(WatchdogStateMachine())
}
