import CallFile
/// The UTC offsets of one time zone, read from the system's tz database (a TZif file under
/// /usr/share/zoneinfo), as a table of transitions: pure, so that the calling-window rules can be tested
/// with any zone and any instant. The shell reads the file; everything here works on its bytes.
///
/// Times after the file's last transition follow its footer (the POSIX TZ rule, e.g.
/// `CET-1CEST,M3.5.0,M10.5.0/3`): the table is extended from that rule up to `ZoneRules.lastYear`, so a
/// lookup is always one binary search.
public struct ZoneRules: Sendable, Hashable, CustomStringConvertible {
    /// The zone's name as configured (`Europe/Berlin`), for log lines.
    public let name: String
    /// Seconds east of UTC before the first transition.
    let initialOffset: Int
    /// Epoch seconds of each change, ascending, and the offset in force from then on.
    let transitionTimes: [Int64]
    let offsets: [Int]

    /// Transitions are generated from the footer rule up to this year.
    static let lastYear = 2200

    public var description: String { name }

    /// A zone with one offset for ever (UTC, or a fixed offset in tests).
    public init(name: String, fixedOffset: Int) {
        self.name = name
        initialOffset = fixedOffset
        transitionTimes = []
        offsets = []
    }

    init(name: String, initialOffset: Int, transitions: [(at: Int64, offset: Int)]) {
        self.name = name
        self.initialOffset = initialOffset
        let sorted = transitions.sorted { $0.at < $1.at }
        transitionTimes = sorted.map(\.at)
        offsets = sorted.map(\.offset)
    }

    /// Seconds east of UTC in force at `epochSeconds`.
    public func offset(at epochSeconds: Int64) -> Int {
        // The last transition at or before the instant.
        var low = 0, high = transitionTimes.count
        while low < high {
            let middle = (low + high) / 2
            if transitionTimes[middle] <= epochSeconds { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? initialOffset : offsets[low - 1]
    }

    /// The instant a local wall-clock time (seconds since the epoch as if the zone were UTC) happens.
    /// A time that happens twice (the hour repeated when clocks go back) is its first occurrence; a time
    /// that never happens (skipped when clocks go forward) is the first instant after the gap, so a window
    /// opening at 02:30 on that day opens at 03:00.
    public func instant(ofLocal local: Int64) -> Int64 {
        // The offsets in force a day either side cover every zone's largest change.
        let before = local - Int64(offset(at: local - 86_400))
        let after = local - Int64(offset(at: local + 86_400))
        let candidates = [before, after].filter { $0 + Int64(offset(at: $0)) == local }
        if let first = candidates.min() { return first }
        // In a gap: the transition between the two readings is when local time jumps past `local`.
        let low = min(before, after), high = max(before, after)
        return transitionTimes.first { $0 > low && $0 <= high } ?? high
    }

    /// Local wall-clock seconds (as if the zone were UTC) at an instant.
    public func local(at epochSeconds: Int64) -> Int64 { epochSeconds + Int64(offset(at: epochSeconds)) }

    // MARK: - TZif

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notTZif
        case truncated
        case badFooter(String)

        public var description: String {
            switch self {
            case .notTZif: "not a time zone file (no TZif header)"
            case .truncated: "the time zone file is truncated"
            case .badFooter(let rule): "the time zone file's rule \"\(rule)\" cannot be read"
            }
        }
    }

    /// Reads a TZif file (RFC 8536, versions 1 to 4): the 64-bit block when there is one, and its footer.
    public init(name: String, tzif bytes: [UInt8]) throws(ParseError) {
        var reader = ByteReader(bytes: bytes)
        let first = try reader.header()
        var transitions: [(at: Int64, offset: Int)] = []
        var initial = 0
        var footer: String?
        if first.version >= 2 {
            try reader.skip(first.dataLength(timeSize: 4))
            let second = try reader.header()
            (initial, transitions) = try reader.block(second, timeSize: 8)
            footer = reader.footer()
        } else {
            (initial, transitions) = try reader.block(first, timeSize: 4)
        }
        if let footer, !footer.isEmpty {
            guard let rule = PosixZoneRule(footer) else { throw .badFooter(footer) }
            // From the year of the file's last transition: a file may stop after that year's spring change.
            let lastListed = transitions.last?.at ?? Int64.min
            let fromYear = transitions.last.map { civilYear(ofDay: floorDivide($0.at, 86_400)) } ?? 1970
            if transitions.isEmpty { initial = rule.standardOffset }
            if let dst = rule.daylight {
                for year in fromYear...Self.lastYear {
                    let start = rule.start(inYear: year, dst: dst), end = rule.end(inYear: year, dst: dst)
                    if start > lastListed { transitions.append((start, dst.offset)) }
                    if end > lastListed { transitions.append((end, rule.standardOffset)) }
                }
            }
        }
        self.init(name: name, initialOffset: initial, transitions: transitions)
    }
}

/// Reads the big-endian fields of a TZif file.
private struct ByteReader {
    let bytes: [UInt8]
    var position = 0

    struct Header {
        var version: Int
        var isUTCCount, isStandardCount, leapCount, timeCount, typeCount, characterCount: Int

        func dataLength(timeSize: Int) -> Int {
            timeCount * timeSize + timeCount + typeCount * 6 + characterCount + leapCount * (timeSize + 4)
                + isStandardCount + isUTCCount
        }
    }

    mutating func skip(_ count: Int) throws(ZoneRules.ParseError) {
        guard count >= 0, position + count <= bytes.count else { throw .truncated }
        position += count
    }

    mutating func integer(_ size: Int) throws(ZoneRules.ParseError) -> Int64 {
        guard position + size <= bytes.count else { throw .truncated }
        var value: UInt64 = 0
        for byte in bytes[position..<position + size] { value = value << 8 | UInt64(byte) }
        position += size
        // Sign-extend 32-bit fields.
        return size == 4 ? Int64(Int32(truncatingIfNeeded: value)) : Int64(bitPattern: value)
    }

    mutating func header() throws(ZoneRules.ParseError) -> Header {
        guard bytes.count >= position + 44, Array(bytes[position..<position + 4]) == Array("TZif".utf8) else {
            throw .notTZif
        }
        let versionByte = bytes[position + 4]
        let version = versionByte == 0 ? 1 : Int(versionByte) - Int(UInt8(ascii: "0"))
        try skip(20)
        var counts: [Int] = []
        for _ in 0..<6 {
            let count = try integer(4)
            guard count >= 0, count < 1 << 20 else { throw .truncated }
            counts.append(Int(count))
        }
        return Header(version: version, isUTCCount: counts[0], isStandardCount: counts[1], leapCount: counts[2],
                      timeCount: counts[3], typeCount: counts[4], characterCount: counts[5])
    }

    /// The transitions of one data block, and the offset before the first (time type 0).
    mutating func block(_ header: Header, timeSize: Int) throws(ZoneRules.ParseError) -> (Int, [(at: Int64, offset: Int)]) {
        var times: [Int64] = []
        for _ in 0..<header.timeCount { times.append(try integer(timeSize)) }
        var typeIndices: [Int] = []
        for _ in 0..<header.timeCount { typeIndices.append(Int(try integer(1))) }
        var typeOffsets: [Int] = []
        for _ in 0..<header.typeCount {
            typeOffsets.append(Int(try integer(4)))
            try skip(2)
        }
        guard !typeOffsets.isEmpty, typeIndices.allSatisfy({ $0 < typeOffsets.count }) else { throw .truncated }
        try skip(header.characterCount + header.leapCount * (timeSize + 4) + header.isStandardCount + header.isUTCCount)
        return (typeOffsets[0], zip(times, typeIndices).map { ($0, typeOffsets[$1]) })
    }

    /// The POSIX TZ string between the two newlines after the last block.
    func footer() -> String? {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\n") else { return nil }
        let rest = bytes[(position + 1)...]
        guard let end = rest.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        return String(decoding: rest[..<end], as: UTF8.self)
    }
}

/// A POSIX TZ rule as TZif footers carry it: `std offset [dst [offset] [,start[/time],end[/time]]]`.
struct PosixZoneRule {
    /// Seconds east of UTC (POSIX writes them west of UTC: `CET-1` is UTC+1).
    var standardOffset: Int
    var daylight: Daylight?

    struct Daylight {
        var offset: Int
        var start: DateRule
        var end: DateRule
    }

    /// `Mm.w.d` (day d of week w of month m, w = 5 the last), `Jn` (day n, 1-365, no 29 February) or
    /// `n` (day n, 0-365), each with a local time of day in seconds.
    enum DateRule {
        case monthWeekDay(month: Int, week: Int, weekday: Int, time: Int)
        case julianNoLeap(day: Int, time: Int)
        case dayOfYear(day: Int, time: Int)
    }

    init?(_ text: String) {
        var scanner = Substring(text)[...]
        guard Self.name(&scanner), let standard = Self.offset(&scanner) else { return nil }
        standardOffset = -standard
        if scanner.isEmpty { daylight = nil; return }
        guard Self.name(&scanner) else { return nil }
        var dstOffset = standardOffset + 3600
        if let first = scanner.first, first != "," {
            guard let explicit = Self.offset(&scanner) else { return nil }
            dstOffset = -explicit
        }
        guard scanner.popFirst() == ",", let start = Self.dateRule(&scanner), scanner.popFirst() == ",",
              let end = Self.dateRule(&scanner), scanner.isEmpty else { return nil }
        daylight = Daylight(offset: dstOffset, start: start, end: end)
    }

    /// The instant daylight time starts in `year` (the rule's time is local standard time).
    func start(inYear year: Int, dst: Daylight) -> Int64 {
        dst.start.localSeconds(inYear: year) - Int64(standardOffset)
    }

    /// The instant daylight time ends in `year` (the rule's time is local daylight time).
    func end(inYear year: Int, dst: Daylight) -> Int64 {
        dst.end.localSeconds(inYear: year) - Int64(dst.offset)
    }

    private static func name(_ s: inout Substring) -> Bool {
        if s.first == "<" {
            guard let close = s.firstIndex(of: ">") else { return false }
            s = s[s.index(after: close)...]
            return true
        }
        let letters = s.prefix { $0.isLetter }
        guard letters.count >= 3 else { return false }
        s = s.dropFirst(letters.count)
        return true
    }

    /// `[+|-]hh[:mm[:ss]]` in seconds (hours may reach 167 in rule times).
    private static func offset(_ s: inout Substring) -> Int? {
        var sign = 1
        if s.first == "+" || s.first == "-" { sign = s.removeFirst() == "-" ? -1 : 1 }
        var parts: [Int] = []
        repeat {
            if !parts.isEmpty { guard s.popFirst() == ":" else { return nil } }
            let digits = s.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 3, let value = Int(digits) else { return nil }
            parts.append(value)
            s = s.dropFirst(digits.count)
        } while s.first == ":" && parts.count < 3
        let seconds = parts[0] * 3600 + (parts.count > 1 ? parts[1] * 60 : 0) + (parts.count > 2 ? parts[2] : 0)
        return sign * seconds
    }

    private static func number(_ s: inout Substring) -> Int? {
        let digits = s.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 3 else { return nil }
        s = s.dropFirst(digits.count)
        return Int(digits)
    }

    private static func dateRule(_ s: inout Substring) -> DateRule? {
        let rule: DateRule
        switch s.first {
        case "M":
            s.removeFirst()
            guard let month = number(&s), s.popFirst() == ".", let week = number(&s), s.popFirst() == ".",
                  let weekday = number(&s), (1...12).contains(month), (1...5).contains(week), (0...6).contains(weekday)
            else { return nil }
            rule = .monthWeekDay(month: month, week: week, weekday: weekday, time: 7200)
        case "J":
            s.removeFirst()
            guard let day = number(&s), (1...365).contains(day) else { return nil }
            rule = .julianNoLeap(day: day, time: 7200)
        default:
            guard let day = number(&s), (0...365).contains(day) else { return nil }
            rule = .dayOfYear(day: day, time: 7200)
        }
        guard s.first == "/" else { return rule }
        s.removeFirst()
        guard let time = offset(&s) else { return nil }
        switch rule {
        case .monthWeekDay(let m, let w, let d, _): return .monthWeekDay(month: m, week: w, weekday: d, time: time)
        case .julianNoLeap(let day, _): return .julianNoLeap(day: day, time: time)
        case .dayOfYear(let day, _): return .dayOfYear(day: day, time: time)
        }
    }
}

extension PosixZoneRule.DateRule {
    /// Local seconds since the epoch of this rule's moment in `year`.
    func localSeconds(inYear year: Int) -> Int64 {
        let january1 = daysFromCivil(year: year, month: 1, day: 1)
        switch self {
        case .monthWeekDay(let month, let week, let weekday, let time):
            let first = daysFromCivil(year: year, month: month, day: 1)
            var day = 1 + (weekday - civilWeekday(ofDay: first) + 7) % 7 + (week - 1) * 7
            let length = daysInMonth(year: year, month: month)
            while day > length { day -= 7 }
            return (first + Int64(day - 1)) * 86_400 + Int64(time)
        case .julianNoLeap(let day, let time):
            // 29 February is never counted: day 60 is 1 March in every year.
            let leapShift: Int64 = CivilDate.isLeapYear(Int64(year)) && day >= 60 ? 1 : 0
            return (january1 + Int64(day - 1) + leapShift) * 86_400 + Int64(time)
        case .dayOfYear(let day, let time):
            return (january1 + Int64(day)) * 86_400 + Int64(time)
        }
    }
}

// MARK: - Civil calendar arithmetic (proleptic Gregorian, days since 1970-01-01)

func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 { CivilDate.floorDivide(value, divisor) }

func daysInMonth(year: Int, month: Int) -> Int { Int(CivilDate.daysIn(month: Int64(month), year: Int64(year))) }

/// Days since 1970-01-01 of a date.
func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
    CivilDate(year: Int64(year), month: Int64(month), day: Int64(day)).daysSinceEpoch
}

/// The year a day (since 1970-01-01) falls in.
func civilYear(ofDay days: Int64) -> Int { Int(CivilDate(daysSinceEpoch: days).year) }

/// 0 = Sunday … 6 = Saturday.
func civilWeekday(ofDay days: Int64) -> Int { CivilDate.weekday(ofDay: days) }
