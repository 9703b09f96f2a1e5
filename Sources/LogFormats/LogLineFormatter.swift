import JSONString
#if canImport(Glibc)
import Glibc
#endif
import Logging

/// Turns one log event into one line of text (newline included) for the journald and JSON formats (plain
/// is `PlainLineFormatter`, which works in bytes). Pure when the time is given.
public enum LogLineFormatter: Sendable {
    /// `<5>message key=value`: sd-daemon priority prefix, no timestamp (journald stamps each entry).
    case journald
    /// `{"time":…,"level":…,"message":…,"metadata":{…}}`.
    case json

    public func line(
        level: Logger.Level, message: String, metadata: Logger.Metadata, time: timespec? = nil
    ) -> String {
        switch self {
        case .journald:
            return "<\(Self.syslogPriority(level))>" + Self.singleLine(message) + Self.keyValues(metadata) + "\n"
        case .json:
            var object = "{\"time\":" + JSONString.quoted(LogTime.iso8601(time ?? LogTime.now()))
            object += ",\"level\":" + JSONString.quoted(level.rawValue)
            object += ",\"message\":" + JSONString.quoted(message)
            object += ",\"metadata\":" + JSONText.object(metadata)
            return object + "}\n"
        }
    }

    /// sd-daemon(3) levels: SD_DEBUG 7 … SD_CRIT 2. swift-log has no emergency or alert.
    public static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// journald (and grep) read one entry per line: a message holding a line break would turn its tail
    /// into a separate entry without a priority, so breaks are shown as `\n` instead.
    static func singleLine(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { return text }
        // By scalars: "\r\n" is one Character, and would slip past a per-Character check.
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result.append(contentsOf: "\\n".unicodeScalars)
            case "\r": result.append(contentsOf: "\\r".unicodeScalars)
            default: result.append(scalar)
            }
        }
        return String(result)
    }

    static func keyValues(_ metadata: Logger.Metadata) -> String {
        guard !metadata.isEmpty else { return "" }
        return " " + metadata.sorted { $0.key < $1.key }
            .map { "\($0.key)=\(singleLine($0.value.description))" }
            .joined(separator: " ")
    }
}

/// The time format every spoold log uses: UTC with milliseconds, because call-file records and mtimes
/// are epoch times and administrators compare them across hosts.
public enum LogTime {
    public static func now() -> timespec {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return time
    }

    public static func iso8601(_ time: timespec) -> String {
        var parts = tm()
        var seconds = time.tv_sec
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(parts.tm_year + 1900)-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
            + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))."
            + "\(pad(Int(time.tv_nsec) / 1_000_000, 3))Z"
    }
}
