#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// Tells the service manager what spoold is doing, over the sd_notify datagram protocol (no libsystemd).
///
/// Exists only when systemd started the process with `$NOTIFY_SOCKET`; outside systemd there is no
/// notifier and callers skip the calls. A failed send is logged, never thrown: systemd being unreachable
/// must not stop spoold from placing calls.
public final class SystemdNotifier: Sendable {
    public typealias Environment = @Sendable (String) -> String?

    public static let processEnvironment: Environment = { name in getenv(name).map { String(cString: $0) } }

    private let socket: NotifySocket
    private let logger: Logger
    /// Whether a failure was already logged as a warning; repeats go to debug so a dead socket does not
    /// flood the log with one line per watchdog tick.
    private let warned = Mutex(false)

    public var address: NotifySocketAddress { socket.address }

    public init(address: NotifySocketAddress, logger: Logger) throws {
        socket = try NotifySocket(address: address)
        self.logger = logger
    }

    /// The notifier for `$NOTIFY_SOCKET`, or nil when it is unset (not started by systemd, or by a unit
    /// that does not want notifications). An unusable value is logged and treated as unset.
    public static func fromEnvironment(_ environment: Environment = processEnvironment, logger: Logger) -> SystemdNotifier? {
        guard let value = environment("NOTIFY_SOCKET") else { return nil }
        do {
            return try SystemdNotifier(address: NotifySocketAddress(value), logger: logger)
        } catch {
            logger.warning("systemd notifications are off: \(error)")
            return nil
        }
    }

    /// How often systemd wants `WATCHDOG=1`: half of `$WATCHDOG_USEC`, as sd_watchdog_enabled advises. Nil
    /// when no watchdog is set, or when `$WATCHDOG_PID` names another process (the variable was inherited).
    public static func watchdogPetInterval(
        _ environment: Environment = processEnvironment, pid: Int32 = getpid()
    ) -> Duration? {
        guard let text = environment("WATCHDOG_USEC"), let microseconds = UInt64(text), microseconds > 0 else {
            return nil
        }
        if let owner = environment("WATCHDOG_PID"), Int32(owner) != pid { return nil }
        return .microseconds(Int64(clamping: microseconds / 2))
    }

    public func send(_ fields: [NotifyField]) {
        do {
            try socket.send(NotifyField.datagram(fields))
        } catch {
            let first = warned.withLock { warned in
                defer { warned = true }
                return !warned
            }
            logger.log(level: first ? .warning : .debug, "cannot notify systemd: \(error)")
        }
    }

    /// Start-up or a reload is complete.
    public func ready(status: String) { send([.ready, .status(status)]) }

    /// A reload begins; follow with `ready(status:)` when it is done, whatever its outcome.
    public func reloading() { send([.reloadingNow(), .status("reloading the configuration")]) }

    public func stopping(status: String) { send([.stopping, .status(status)]) }

    public func status(_ text: String) { send([.status(text)]) }

    public func watchdog(status: String) { send([.watchdog, .status(status)]) }
}
