/// The rules spoold adds to Asterisk's on when a due file may be dialled and when a failed one is tried
/// again: calling windows, `max_lateness` and retry delays per outcome (contract §4, "Beyond any call-file
/// spooler"). Pure values: the engine's state machine asks them with the instant it was given. With none
/// configured (`CallingRules()`), every answer is Asterisk's: dial now, retry after the file's RetryTime.
public struct CallingRules: Sendable, Hashable {
    /// `[window:PATTERN]` sections in file order: the first whose pattern matches the channel applies.
    public var windows: [CallingWindow]
    /// `[retry:PATTERN]` sections in file order: the first whose pattern matches the channel applies.
    public var retryRules: [RetryRule]
    /// `[general]`'s `max_lateness` in seconds; 0 = off. A window section's own value wins for its files.
    public var maxLateness: Int

    public init(windows: [CallingWindow] = [], retryRules: [RetryRule] = [], maxLateness: Int = 0) {
        self.windows = windows
        self.retryRules = retryRules
        self.maxLateness = maxLateness
    }

    /// What to do with a file that is due at `due` and that could be dialled at `now`.
    public enum Timing: Sendable, Hashable {
        /// Inside its window (or none applies), and not too late.
        case dialNow
        /// Outside its window: wait until it opens, which is not too late.
        case holdUntil(SpoolInstant, window: String)
        /// It would be dialled at `dialAt`, more than `limit` seconds after `due`: never dialled, Expired.
        case tooLate(dialAt: SpoolInstant, lateness: Duration, limit: Int, heldByWindow: String?)
    }

    public func window(for channel: String) -> CallingWindow? {
        windows.first { $0.pattern.matches(channel) }
    }

    public func retryRule(for channel: String) -> RetryRule? {
        retryRules.first { $0.pattern.matches(channel) }
    }

    /// Whether a file due at `due` on `channel` is dialled now, held by its window, or too late.
    public func timing(channel: String, due: SpoolInstant, now: SpoolInstant) -> Timing {
        let window = window(for: channel)
        let dialAt = window?.opening(atOrAfter: now) ?? now
        let limit = window?.maxLateness ?? maxLateness
        let lateness = dialAt.duration(since: due)
        if limit > 0, lateness > .seconds(limit) {
            return .tooLate(dialAt: dialAt, lateness: lateness, limit: limit, heldByWindow: dialAt > now ? window?.name : nil)
        }
        if dialAt > now, let window { return .holdUntil(dialAt, window: window.name) }
        return .dialNow
    }

    /// When a failed attempt with `reason` (an OriginateResponse Reason) is tried again, by the first
    /// retry rule for the channel: nil when no rule sets that outcome (the file's RetryTime applies).
    public func retryDelay(channel: String, reason: Int) -> RetryDelay? {
        retryRule(for: channel)?.delay(forReason: reason)
    }
}

/// One `[window:PATTERN]` section: the days and hours, in a time zone, when matching channels may ring.
public struct CallingWindow: Sendable, Hashable {
    public var pattern: ChannelPattern
    public var days: Weekdays
    /// Sorted by start; a range whose end is not after its start runs past midnight into the next day
    /// (`22:00-06:00`), and belongs to the day it starts on.
    public var hours: [DailyHours]
    public var zone: ZoneRules
    /// This section's `max_lateness` (seconds, 0 = off); nil: `[general]`'s applies.
    public var maxLateness: Int?

    public init(pattern: ChannelPattern, days: Weekdays, hours: [DailyHours], zone: ZoneRules, maxLateness: Int? = nil) {
        precondition(!days.isEmpty && !hours.isEmpty, "a window needs days and hours")
        self.pattern = pattern
        self.days = days
        self.hours = hours.sorted { $0.start < $1.start }
        self.zone = zone
        self.maxLateness = maxLateness
    }

    /// The section's name as an administrator wrote it: `[window:PATTERN]`.
    public var name: String { "[window:\(pattern.text)]" }

    /// `instant` itself when the window is open then, else the first instant after it when it opens.
    public func opening(atOrAfter instant: SpoolInstant) -> SpoolInstant {
        let today = floorDivide(zone.local(at: instant.seconds), 86_400)
        var earliest: Int64?
        // Yesterday's ranges may run past midnight; a week on, every listed day has come round.
        for day in (today - 1)...(today + 7) where days.contains(Weekdays(civilWeekday: civilWeekday(ofDay: day))) {
            for range in hours {
                let startLocal = day * 86_400 + Int64(range.start) * 60
                let endLocal = day * 86_400 + Int64(range.end) * 60 + (range.crossesMidnight ? 86_400 : 0)
                let start = zone.instant(ofLocal: startLocal), end = zone.instant(ofLocal: endLocal)
                if SpoolInstant(seconds: start) <= instant, instant < SpoolInstant(seconds: end) { return instant }
                if SpoolInstant(seconds: start) > instant { earliest = min(earliest ?? start, start) }
            }
        }
        // Unreachable with days and hours set (the initialiser insists); a week on is the safe answer.
        return SpoolInstant(seconds: earliest ?? instant.seconds + 7 * 86_400)
    }

    public func isOpen(at instant: SpoolInstant) -> Bool { opening(atOrAfter: instant) == instant }
}

/// A set of weekdays.
public struct Weekdays: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// 0 = Sunday … 6 = Saturday.
    public init(civilWeekday: Int) { rawValue = 1 << UInt8(civilWeekday) }

    public static let sunday = Weekdays(civilWeekday: 0)
    public static let monday = Weekdays(civilWeekday: 1)
    public static let tuesday = Weekdays(civilWeekday: 2)
    public static let wednesday = Weekdays(civilWeekday: 3)
    public static let thursday = Weekdays(civilWeekday: 4)
    public static let friday = Weekdays(civilWeekday: 5)
    public static let saturday = Weekdays(civilWeekday: 6)
    public static let all = Weekdays(rawValue: 0x7F)
}

/// A range of local time of day, in minutes since midnight (`end` up to 1440 for 24:00).
public struct DailyHours: Sendable, Hashable {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        precondition((0..<1440).contains(start) && (0...1440).contains(end) && start != end, "bad hours")
        self.start = start
        self.end = end
    }

    var crossesMidnight: Bool { end < start }
}

/// A retry delay of a `[retry:PATTERN]` key.
public enum RetryDelay: Sendable, Hashable, CustomStringConvertible {
    case after(seconds: Int)
    /// No further attempt: the file is finished as Expired at once.
    case never

    public var description: String {
        switch self {
        case .after(let seconds): "\(seconds) s"
        case .never: "never"
        }
    }
}

/// One `[retry:PATTERN]` section: the delay before the next attempt after each kind of failure.
public struct RetryRule: Sendable, Hashable {
    public var pattern: ChannelPattern
    public var busy: RetryDelay?
    public var noAnswer: RetryDelay?
    public var congestion: RetryDelay?
    /// Reason 0: the call could not be placed at all (a number that does not exist, no route).
    public var failure: RetryDelay?
    /// Reason 1: hung up before answer.
    public var hangup: RetryDelay?

    public init(pattern: ChannelPattern, busy: RetryDelay? = nil, noAnswer: RetryDelay? = nil,
                congestion: RetryDelay? = nil, failure: RetryDelay? = nil, hangup: RetryDelay? = nil) {
        self.pattern = pattern
        self.busy = busy
        self.noAnswer = noAnswer
        self.congestion = congestion
        self.failure = failure
        self.hangup = hangup
    }

    public var name: String { "[retry:\(pattern.text)]" }

    /// The delay this rule sets for an OriginateResponse Reason (reference §6): 0 failure, 1 hangup,
    /// 3 no answer, 5 busy, 8 congestion; nil for any other reason or an outcome the rule leaves unset.
    public func delay(forReason reason: Int) -> RetryDelay? {
        switch reason {
        case 0: failure
        case 1: hangup
        case 3: noAnswer
        case 5: busy
        case 8: congestion
        default: nil
        }
    }

    /// The key naming an OriginateResponse Reason, for log lines.
    public static func outcomeKey(forReason reason: Int) -> String? {
        switch reason {
        case 0: "failure"
        case 1: "hangup"
        case 3: "noanswer"
        case 5: "busy"
        case 8: "congestion"
        default: nil
        }
    }
}

// MARK: - The engine's questions, answered with the words of its log lines

extension CallingRules {
    /// What follows a failed attempt: the next attempt's due time (by a `[retry:PATTERN]` rule, or the
    /// file's RetryTime when none sets this outcome), or none at all (`never`).
    public enum Retry: Sendable, Hashable {
        case at(SpoolInstant, rule: String?)
        case never(rule: String)
    }

    /// The next attempt after one with `reason` that ended at `ended`, for a file with `retryTime`.
    public func retry(channel: String, reason: Int, retryTime: Int, ended: SpoolInstant) -> Retry {
        guard let rule = retryRule(for: channel), let delay = rule.delay(forReason: reason),
              let key = RetryRule.outcomeKey(forReason: reason) else { return .at(ended.adding(seconds: retryTime), rule: nil) }
        switch delay {
        case .after(let seconds): return .at(ended.adding(seconds: seconds), rule: "\(rule.name) \(key) = \(seconds) s")
        case .never: return .never(rule: "\(rule.name) \(key) = never")
        }
    }

    /// Why a held file waits: `held by [window:PJSIP/*] until Mon 09:00 Europe/Berlin (08:00:00 UTC)`.
    public func holdText(channel: String, until: SpoolInstant) -> String {
        guard let window = window(for: channel) else { return "held until \(until.timeOfDay) UTC" }
        return "held by \(window.name) until \(window.localText(until)) (\(until.timeOfDay) UTC)"
    }

    /// Why a file is not dialled at all: `7260 s late, over max_lateness 3600 s ([general])`, and the
    /// window that would have held it.
    public func tooLateText(channel: String, lateness: Duration, limit: Int, dialAt: SpoolInstant, heldByWindow: String?) -> String {
        let source = window(for: channel).flatMap { $0.maxLateness == nil ? nil : $0.name } ?? "[general]"
        let held = heldByWindow.map { ", as \($0) opens only at \(window(for: channel)?.localText(dialAt) ?? dialAt.timeOfDay)" } ?? ""
        return "\(lateness.components.seconds) s late\(held), over max_lateness \(limit) s (\(source))"
    }
}

extension CallingWindow {
    /// `Mon 09:00 Europe/Berlin`: an instant in the window's own zone, as its hours are written.
    public func localText(_ instant: SpoolInstant) -> String {
        let local = zone.local(at: instant.seconds)
        let minutes = floorDivide(local, 60) % 1440
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let day = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][civilWeekday(ofDay: floorDivide(local, 86_400))]
        return "\(day) \(two(minutes / 60)):\(two(minutes % 60)) \(zone.name)"
    }
}

extension CallingRules {
    /// `; 2 calling windows, 1 retry rule, max_lateness 3600 s` for the reload's log line; empty with none.
    public var summary: String {
        guard self != CallingRules() else { return "" }
        func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        return "; \(count(windows.count, "calling window")), \(count(retryRules.count, "retry rule")), max_lateness \(maxLateness == 0 ? "off" : "\(maxLateness) s")"
    }
}
