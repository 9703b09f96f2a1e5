import ArgumentParser
import Logging
import Spooler
import Synchronization
import SystemdNotify
import UnixSignals

extension RunCommand {
    /// The spool lock. Without standby: at once, or exit 1 naming the holder (a second spoold refuses to
    /// start). With standby: waits until the holder releases it; nil when a SIGTERM or SIGINT came first.
    func acquireSpoolLock(spoolDirectory: String, standby: Bool, logger: Logger) async throws -> SpoolLock? {
        guard standby else {
            do {
                return try SpoolLock(spoolDirectory: spoolDirectory)
            } catch {
                printError("spoold: \(error)")
                throw ExitCode.failure
            }
        }
        let notifier = SystemdNotifier.fromEnvironment(logger: logger)
        let standby = Standby(notifier: notifier, logger: logger)
        let stopSignals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let lock: SpoolLock?
        do {
            lock = try await standby.waitForLock(spoolDirectory: spoolDirectory, stopSignals: stopSignals)
        } catch {
            printError("spoold: \(error)")
            throw ExitCode.failure
        }
        guard let lock else {
            logger.notice("standby: stopped before the spool was released")
            notifier?.stopping(status: "stopping: standby, the spool was never taken over")
            return nil
        }
        logger.notice("standby: took over \(spoolDirectory); recovering the calls in flight, as after a crash")
        notifier?.status("took over the spool: recovering calls in flight")
        return lock
    }
}

/// Waits for the spool lock while another spoold holds it, saying who holds it in the log and in
/// systemd's STATUS ("standby: spool held by pid N on HOST"). Tells systemd READY once it is waiting, so
/// that `systemctl start` of a standby returns, and feeds the watchdog meanwhile (the unit's WatchdogSec
/// would otherwise kill a standby that waits for long).
final class Standby: Sendable {
    let notifier: SystemdNotifier?
    let logger: Logger
    private let status = Mutex("standby: waiting for the spool lock")

    init(notifier: SystemdNotifier?, logger: Logger) {
        self.notifier = notifier
        self.logger = logger
    }

    /// The lock once it is free, or nil when one of `stopSignals` comes first.
    func waitForLock(spoolDirectory: String, stopSignals: UnixSignalsSequence) async throws(SpoolLock.Failure) -> SpoolLock? {
        let outcome: Result<SpoolLock?, SpoolLock.Failure>? = await withTaskGroup(of: Result<SpoolLock?, SpoolLock.Failure>?.self) { group in
            group.addTask {
                do throws(SpoolLock.Failure) {
                    return .success(try await SpoolLock.waitForLock(spoolDirectory: spoolDirectory) { event in
                        switch event {
                        case .waiting(let holder):
                            let text = "standby: spool held by \(holder)"
                            self.status.withLock { $0 = text }
                            self.logger.notice("\(text); taking over when it is released")
                            self.notifier?.ready(status: text)
                        }
                    })
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                for await _ in stopSignals { return .success(nil) }
                return nil  // the sequence ended: no answer from this task
            }
            if let notifier = self.notifier {
                group.addTask {
                    // Outside a ServiceGroup the watchdog service only ticks, until this task is cancelled.
                    try? await WatchdogService(
                        notifier: notifier, watchdogInterval: SystemdNotifier.watchdogPetInterval(), logger: self.logger
                    ) { self.status.withLock { $0 } }.run()
                    return nil
                }
            }
            while let next = await group.next() {
                if let answer = next {
                    group.cancelAll()
                    return answer
                }
            }
            return nil
        }
        switch outcome {
        case .success(let lock): return lock
        case .failure(let failure): throw failure
        case nil: return nil
        }
    }
}
