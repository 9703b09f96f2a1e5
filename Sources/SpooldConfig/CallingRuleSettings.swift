#if canImport(Glibc)
import Glibc
#endif

/// A `[window:PATTERN]` section: when calls whose Channel matches `pattern` may ring.
public struct WindowSettings: Sendable, Equatable {
    public var pattern: String
    /// The section's line, for messages about it.
    public var line: Int
    /// Bit n set: weekday n (0 = Sunday … 6 = Saturday) is a calling day.
    public var days: UInt8
    /// Local times of day in minutes since midnight, `end` up to 1440; an end before the start runs past
    /// midnight. In the order written.
    public var hours: [HoursRange]
    /// An IANA name (`Europe/Berlin`); nil: the system's zone (/etc/localtime).
    public var timeZone: String?
    /// This window's own `max_lateness` in seconds (0 = off); nil: `[general]`'s applies.
    public var maxLateness: Int?

    public struct HoursRange: Sendable, Equatable {
        public var start: Int
        public var end: Int
        public init(start: Int, end: Int) {
            self.start = start
            self.end = end
        }
    }

    public init(pattern: String, line: Int, days: UInt8, hours: [HoursRange], timeZone: String? = nil, maxLateness: Int? = nil) {
        self.pattern = pattern
        self.line = line
        self.days = days
        self.hours = hours
        self.timeZone = timeZone
        self.maxLateness = maxLateness
    }
}

/// A retry delay after one kind of failed attempt: seconds, or never again.
public enum RetryDelaySetting: Sendable, Equatable {
    case seconds(Int)
    case never
}

/// A `[retry:PATTERN]` section: the delay before the next attempt after each outcome, for calls whose
/// Channel matches `pattern`.
public struct RetrySettings: Sendable, Equatable {
    public var pattern: String
    public var line: Int
    public var busy: RetryDelaySetting?
    public var noAnswer: RetryDelaySetting?
    public var congestion: RetryDelaySetting?
    public var failure: RetryDelaySetting?
    public var hangup: RetryDelaySetting?

    public init(pattern: String, line: Int, busy: RetryDelaySetting? = nil, noAnswer: RetryDelaySetting? = nil,
                congestion: RetryDelaySetting? = nil, failure: RetryDelaySetting? = nil, hangup: RetryDelaySetting? = nil) {
        self.pattern = pattern
        self.line = line
        self.busy = busy
        self.noAnswer = noAnswer
        self.congestion = congestion
        self.failure = failure
        self.hangup = hangup
    }
}

/// Where the system's time zone files are, and how a name is checked against them.
public enum TimeZoneDatabase {
    public static let directory = "/usr/share/zoneinfo"

    /// The file of an IANA zone name, or nil for a name that cannot be one (absolute, `..`, odd characters).
    public static func path(of name: String) -> String? {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard !name.isEmpty, !name.hasPrefix("/"),
              parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }),
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "/_-+".contains($0)) })
        else { return nil }
        return directory + "/" + name
    }

    /// Whether `name` names a zone file of the system's tz database (a regular file starting with `TZif`).
    public static func exists(_ name: String) -> Bool {
        guard let path = path(of: name) else { return false }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return false }
        var magic = [UInt8](repeating: 0, count: 4)
        return read(descriptor, &magic, 4) == 4 && magic == Array("TZif".utf8)
    }
}

extension ValueParser {
    static let weekdayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// `mon-fri`, `mon,wed,fri`, `fri-mon` (a range may wrap past Sunday), `sat-sun, tue`; full names too.
    static func days(_ value: String) -> Parsed<UInt8> {
        let expected = "expected weekdays as a list of days and ranges, e.g. mon-fri or mon,wed,fri or sat-sun (mon tue wed thu fri sat sun)"
        var days: UInt8 = 0
        let items = value.split(separator: ",", omittingEmptySubsequences: false)
        for item in items {
            let ends = item.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingSpaces.lowercased() }
            guard (1...2).contains(ends.count) else { return .failure(Expectation("\(quoted(value)) is not valid; \(expected)")) }
            var indices: [Int] = []
            for end in ends {
                guard let index = weekdayIndex(end) else {
                    return .failure(Expectation("\(quoted(end.isEmpty ? String(item) : end)) is not a weekday; \(expected)"))
                }
                indices.append(index)
            }
            var day = indices[0]
            while true {
                days |= 1 << UInt8(day)
                if day == indices.last! { break }
                day = (day + 1) % 7
            }
        }
        return .success(days)
    }

    private static func weekdayIndex(_ name: String) -> Int? {
        let full = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
        return weekdayNames.firstIndex(of: name) ?? full.firstIndex(of: name)
    }

    /// `09:00-12:30, 14:00-20:00`; `22:00-06:00` runs past midnight; `00:00-24:00` is the whole day.
    static func hours(_ value: String) -> Parsed<[WindowSettings.HoursRange]> {
        let expected = "expected ranges of local time HH:MM-HH:MM separated by commas, e.g. 09:00-12:30, 14:00-20:00"
        var ranges: [WindowSettings.HoursRange] = []
        for item in value.split(separator: ",", omittingEmptySubsequences: false) {
            let ends = item.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
            guard ends.count == 2, let start = minutes(ends[0]), let end = minutes(ends[1]) else {
                return .failure(Expectation("\(quoted(item.trimmingSpaces)) is not valid; \(expected)"))
            }
            guard start < 1440 else {
                return .failure(Expectation("\(quoted(item.trimmingSpaces)) starts at 24:00; a range starts at 23:59 at the latest"))
            }
            guard start != end else {
                return .failure(Expectation("\(quoted(item.trimmingSpaces)) is empty (it starts when it ends); for the whole day write 00:00-24:00"))
            }
            ranges.append(WindowSettings.HoursRange(start: start, end: end))
        }
        return .success(ranges)
    }

    /// `HH:MM` from 00:00 to 24:00, in minutes.
    private static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let hour = Int(parts[0]), let minute = Int(parts[1]), hour <= 24, minute < 60,
              hour < 24 || minute == 0
        else { return nil }
        return hour * 60 + minute
    }

    static func timeZone(_ value: String, exists: (String) -> Bool) -> Parsed<String> {
        guard TimeZoneDatabase.path(of: value) != nil, exists(value) else {
            return .failure(Expectation("\(quoted(value)) is not a time zone of this system's tz database (\(TimeZoneDatabase.directory)); expected an IANA name such as Europe/Berlin or America/New_York"))
        }
        return .success(value)
    }

    /// Whole seconds from 0 (off) to a year.
    static func lateness(_ value: String) -> Parsed<Int> {
        integer(value, in: 0...31_536_000, "whole seconds a call may be late, 0 (off) to 31536000, e.g. 3600")
    }

    /// Whole seconds from 0 to a year, or `never`.
    static func retryDelay(_ value: String) -> Parsed<RetryDelaySetting> {
        if value.lowercased() == "never" { return .success(.never) }
        guard let seconds = Int(value), (0...31_536_000).contains(seconds) else {
            return .failure(Expectation("\(quoted(value)) is not valid; expected whole seconds before the next attempt (0 to 31536000) or never"))
        }
        return .success(.seconds(seconds))
    }
}
