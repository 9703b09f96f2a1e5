#if canImport(Glibc)
import Glibc
#endif

/// One `KEY=VALUE` line of the sd_notify protocol; a datagram is several of them, one per line.
public enum NotifyField: Sendable, Equatable {
    /// Start-up (or a reload) is complete.
    case ready
    /// A reload has begun; systemd wants the CLOCK_MONOTONIC time it began, in microseconds.
    case reloading(monotonicMicroseconds: UInt64)
    /// A graceful stop has begun.
    case stopping
    /// Still alive: resets systemd's watchdog timer.
    case watchdog
    /// Free text shown by `systemctl status`.
    case status(String)

    /// `RELOADING=1` stamped with the current CLOCK_MONOTONIC time.
    public static func reloadingNow() -> NotifyField {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return .reloading(monotonicMicroseconds: UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000)
    }

    var lines: [String] {
        switch self {
        case .ready: return ["READY=1"]
        case .reloading(let microseconds): return ["RELOADING=1", "MONOTONIC_USEC=\(microseconds)"]
        case .stopping: return ["STOPPING=1"]
        case .watchdog: return ["WATCHDOG=1"]
        case .status(let text): return ["STATUS=" + Self.oneLine(text)]
        }
    }

    /// The datagram for a set of fields: lines joined by newlines.
    public static func datagram(_ fields: [NotifyField]) -> [UInt8] {
        Array(fields.flatMap(\.lines).joined(separator: "\n").utf8)
    }

    /// A line break or NUL inside STATUS would start a new field (or cut the datagram short), so the
    /// text is folded onto one line.
    static func oneLine(_ text: String) -> String {
        String(text.unicodeScalars.map { $0 == "\n" || $0 == "\r" || $0 == "\0" ? " " : Character($0) })
    }
}
