import Testing
@testable import Spooler

#if canImport(Glibc)
import Glibc
#endif

/// The zone rules read from the system's tz database (Debian's tzdata, which spoold's package depends on).
func systemZone(_ name: String) throws -> ZoneRules {
    let path = "/usr/share/zoneinfo/" + name
    guard let handle = fopen(path, "rb") else { throw ZoneFileMissing(path: path) }
    defer { fclose(handle) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = fread(&buffer, 1, buffer.count, handle)
        if count <= 0 { break }
        bytes += buffer[0..<count]
    }
    return try ZoneRules(name: name, tzif: bytes)
}

struct ZoneFileMissing: Error { var path: String }

/// An instant given as a UTC date and time.
func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0) -> SpoolInstant {
    SpoolInstant(seconds: daysFromCivil(year: year, month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60))
}

func hours(_ text: String) -> DailyHours {
    let parts = text.split(separator: "-").map { $0.split(separator: ":").map { Int($0)! } }
    return DailyHours(start: parts[0][0] * 60 + parts[0][1], end: parts[1][0] * 60 + parts[1][1])
}

@Suite("Time zones from the tz database")
struct ZoneRulesTests {
    @Test("Europe/Berlin: CET, then CEST from 01:00 UTC on the last Sunday of March, back on the last Sunday of October")
    func berlin() throws {
        let berlin = try systemZone("Europe/Berlin")
        let spring = utc(2026, 3, 29, 1), autumn = utc(2026, 10, 25, 1)
        #expect(spring.seconds == 1_774_746_000 && autumn.seconds == 1_792_890_000)
        #expect(berlin.offset(at: spring.seconds - 1) == 3600)
        #expect(berlin.offset(at: spring.seconds) == 7200)
        #expect(berlin.offset(at: autumn.seconds - 1) == 7200)
        #expect(berlin.offset(at: autumn.seconds) == 3600)
    }

    @Test("America/New_York: EST/EDT changes on the second Sunday of March and the first of November")
    func newYork() throws {
        let newYork = try systemZone("America/New_York")
        #expect(newYork.offset(at: 1_772_953_200 - 1) == -5 * 3600)
        #expect(newYork.offset(at: 1_772_953_200) == -4 * 3600)
        #expect(newYork.offset(at: 1_793_512_800 - 1) == -4 * 3600)
        #expect(newYork.offset(at: 1_793_512_800) == -5 * 3600)
    }

    @Test("After the file's listed transitions, the footer's rule goes on (2040 in Berlin)")
    func footerRule() throws {
        let berlin = try systemZone("Europe/Berlin")
        #expect(berlin.offset(at: 2_216_250_000 - 1) == 3600)
        #expect(berlin.offset(at: 2_216_250_000) == 7200)
        #expect(berlin.offset(at: utc(2040, 7, 1).seconds) == 7200)
        #expect(berlin.offset(at: utc(2040, 12, 1).seconds) == 3600)
    }

    @Test("A local time skipped by the spring change is the first instant after the gap; a repeated one its first occurrence")
    func gapsAndRepeats() throws {
        let berlin = try systemZone("Europe/Berlin")
        let local = { (d: Int, h: Int, m: Int) in daysFromCivil(year: 2026, month: d < 15 ? 10 : 3, day: d) * 86_400 + Int64(h * 3600 + m * 60) }
        // 29 March 02:30 does not exist: 03:00 CEST = 01:00 UTC.
        #expect(berlin.instant(ofLocal: local(29, 2, 30)) == utc(2026, 3, 29, 1).seconds)
        // 29 March 03:30 CEST = 01:30 UTC; 01:30 CET = 00:30 UTC.
        #expect(berlin.instant(ofLocal: local(29, 3, 30)) == utc(2026, 3, 29, 1, 30).seconds)
        #expect(berlin.instant(ofLocal: local(29, 1, 30)) == utc(2026, 3, 29, 0, 30).seconds)
        // 25 October 02:30 happens twice: first in CEST (00:30 UTC).
        let repeated = daysFromCivil(year: 2026, month: 10, day: 25) * 86_400 + 2 * 3600 + 30 * 60
        #expect(berlin.instant(ofLocal: repeated) == utc(2026, 10, 25, 0, 30).seconds)
    }

    @Test("Bytes that are not a TZif file, or a cut one, are refused with the cause")
    func badFiles() throws {
        #expect(throws: ZoneRules.ParseError.notTZif) { try ZoneRules(name: "x", tzif: Array("not a zone".utf8)) }
        let berlin = try systemZoneBytes("Europe/Berlin")
        #expect(throws: ZoneRules.ParseError.truncated) { try ZoneRules(name: "x", tzif: Array(berlin.prefix(300))) }
        for cut in stride(from: 0, to: berlin.count, by: 7) {
            _ = try? ZoneRules(name: "x", tzif: Array(berlin.prefix(cut)))  // never a crash
        }
    }

    func systemZoneBytes(_ name: String) throws -> [UInt8] {
        guard let handle = fopen("/usr/share/zoneinfo/" + name, "rb") else { throw ZoneFileMissing(path: name) }
        defer { fclose(handle) }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = fread(&buffer, 1, buffer.count, handle)
        return Array(buffer[0..<count])
    }
}

@Suite("Calling windows")
struct CallingWindowTests {
    // Wednesday 9 December 2026; Berlin is UTC+1 in winter.
    func office() throws -> CallingWindow {
        CallingWindow(pattern: ChannelPattern("PJSIP/*"), days: [.monday, .tuesday, .wednesday, .thursday, .friday],
                      hours: [hours("09:00-12:30"), hours("14:00-20:00")], zone: try systemZone("Europe/Berlin"))
    }

    @Test("Inside the window: dialled at once")
    func inside() throws {
        let window = try office()
        let now = utc(2026, 12, 9, 9, 15)  // 10:15 in Berlin
        #expect(window.opening(atOrAfter: now) == now)
        #expect(window.isOpen(at: utc(2026, 12, 9, 8)))  // 09:00 sharp
        #expect(!window.isOpen(at: utc(2026, 12, 9, 11, 30)))  // 12:30 sharp: closed
    }

    @Test("Between two ranges: the afternoon range opens it; after the last one: the next weekday morning")
    func outside() throws {
        let window = try office()
        #expect(window.opening(atOrAfter: utc(2026, 12, 9, 12)) == utc(2026, 12, 9, 13))  // 13:00 → 14:00 local
        #expect(window.opening(atOrAfter: utc(2026, 12, 9, 19, 30)) == utc(2026, 12, 10, 8))  // 20:30 → Thu 09:00
        // Friday 21:00 local → Monday 09:00 local.
        #expect(window.opening(atOrAfter: utc(2026, 12, 11, 20)) == utc(2026, 12, 14, 8))
        #expect(window.opening(atOrAfter: utc(2026, 12, 12, 10)) == utc(2026, 12, 14, 8))  // Saturday
    }

    @Test("A range across midnight belongs to the day it starts on and runs into the next")
    func acrossMidnight() throws {
        let night = CallingWindow(pattern: ChannelPattern("*"), days: [.monday], hours: [hours("22:00-06:00")],
                                  zone: ZoneRules(name: "UTC", fixedOffset: 0))
        // Monday 14 December 2026, 23:00 and Tuesday 03:00 are inside; Tuesday 06:00 is not.
        #expect(night.isOpen(at: utc(2026, 12, 14, 23)))
        #expect(night.isOpen(at: utc(2026, 12, 15, 3)))
        #expect(night.opening(atOrAfter: utc(2026, 12, 15, 6)) == utc(2026, 12, 21, 22))
        // Sunday 23:00 is not in Monday's range: it opens Monday 22:00.
        #expect(night.opening(atOrAfter: utc(2026, 12, 13, 23)) == utc(2026, 12, 14, 22))
    }

    @Test("Daylight saving change days: the window keeps local wall-clock hours (Europe/Berlin)")
    func berlinChangeDays() throws {
        let daily = CallingWindow(pattern: ChannelPattern("*"), days: .all, hours: [hours("09:00-17:00")],
                                  zone: try systemZone("Europe/Berlin"))
        // Saturday 28 March 2026 (CET): 09:00 = 08:00 UTC. Sunday 29 March (CEST from 03:00): 09:00 = 07:00 UTC.
        #expect(daily.opening(atOrAfter: utc(2026, 3, 28, 6)) == utc(2026, 3, 28, 8))
        #expect(daily.opening(atOrAfter: utc(2026, 3, 29, 0)) == utc(2026, 3, 29, 7))
        #expect(daily.isOpen(at: utc(2026, 3, 29, 14, 59)) && !daily.isOpen(at: utc(2026, 3, 29, 15)))
        // Sunday 25 October (CET again from 03:00): 09:00 = 08:00 UTC.
        #expect(daily.opening(atOrAfter: utc(2026, 10, 25, 0)) == utc(2026, 10, 25, 8))
        // A range starting inside the skipped hour opens when the clocks have jumped: 03:00 CEST.
        let early = CallingWindow(pattern: ChannelPattern("*"), days: .all, hours: [hours("02:30-04:00")],
                                  zone: try systemZone("Europe/Berlin"))
        #expect(early.opening(atOrAfter: utc(2026, 3, 28, 23)) == utc(2026, 3, 29, 1))
    }

    @Test("Daylight saving change days in America/New_York")
    func newYorkChangeDays() throws {
        let daily = CallingWindow(pattern: ChannelPattern("*"), days: .all, hours: [hours("08:00-21:00")],
                                  zone: try systemZone("America/New_York"))
        // Sunday 8 March 2026: EDT from 02:00 local, so 08:00 = 12:00 UTC (13:00 UTC the day before).
        #expect(daily.opening(atOrAfter: utc(2026, 3, 7, 10)) == utc(2026, 3, 7, 13))
        #expect(daily.opening(atOrAfter: utc(2026, 3, 8, 2)) == utc(2026, 3, 8, 12))
        // Sunday 1 November 2026: EST from 02:00 local, so 21:00 = 02:00 UTC the next day.
        #expect(daily.isOpen(at: utc(2026, 11, 2, 1, 59)) && !daily.isOpen(at: utc(2026, 11, 2, 2)))
    }
}

@Suite("Calling rules: windows, max_lateness, retry rules")
struct CallingRulesTests {
    let utcZone = ZoneRules(name: "UTC", fixedOffset: 0)

    func rules(lateness: Int = 0, windowLateness: Int? = nil) -> CallingRules {
        CallingRules(
            windows: [
                CallingWindow(pattern: ChannelPattern("PJSIP/*@office"), days: .all, hours: [hours("09:00-17:00")],
                              zone: utcZone, maxLateness: windowLateness),
                CallingWindow(pattern: ChannelPattern("PJSIP/*"), days: .all, hours: [hours("00:00-01:00")], zone: utcZone),
            ],
            retryRules: [
                RetryRule(pattern: ChannelPattern("PJSIP/*@office"), busy: .after(seconds: 120), failure: .never),
                RetryRule(pattern: ChannelPattern("*"), noAnswer: .after(seconds: 1800)),
            ],
            maxLateness: lateness)
    }

    @Test("No rules: dial now, however late; retry by the file")
    func nothingConfigured() {
        let rules = CallingRules()
        #expect(rules.timing(channel: "PJSIP/1", due: utc(2026, 1, 1), now: utc(2026, 12, 9)) == .dialNow)
        #expect(rules.retryDelay(channel: "PJSIP/1", reason: 5) == nil)
    }

    @Test("The first matching window holds a file outside its hours until it opens")
    func firstWindowWins() {
        let due = utc(2026, 12, 9, 18)
        #expect(rules().timing(channel: "PJSIP/100@office", due: due, now: due)
            == .holdUntil(utc(2026, 12, 10, 9), window: "[window:PJSIP/*@office]"))
        #expect(rules().timing(channel: "PJSIP/100@home", due: due, now: due)
            == .holdUntil(utc(2026, 12, 10, 0), window: "[window:PJSIP/*]"))
        #expect(rules().timing(channel: "SIP/1", due: due, now: due) == .dialNow)
        #expect(rules().timing(channel: "PJSIP/100@office", due: due, now: utc(2026, 12, 10, 10)) == .dialNow)
    }

    @Test("max_lateness: a file dialled more than that after its due time is too late, also when a window held it")
    func lateness() {
        let due = utc(2026, 12, 9, 10)
        // [general] max_lateness 2 h; spoold was down until 13:00 → 3 h late.
        #expect(rules(lateness: 7200).timing(channel: "SIP/1", due: due, now: utc(2026, 12, 9, 13))
            == .tooLate(dialAt: utc(2026, 12, 9, 13), lateness: .seconds(3 * 3600), limit: 7200, heldByWindow: nil))
        #expect(rules(lateness: 7200).timing(channel: "SIP/1", due: due, now: utc(2026, 12, 9, 11)) == .dialNow)
        // Due 16:59 at the office, the window closes at 17:00 and reopens at 09:00: 16 h late.
        let evening = utc(2026, 12, 9, 17, 30)
        #expect(rules(windowLateness: 3600).timing(channel: "PJSIP/1@office", due: utc(2026, 12, 9, 16, 59), now: evening)
            == .tooLate(dialAt: utc(2026, 12, 10, 9), lateness: .seconds(16 * 3600 + 60), limit: 3600,
                        heldByWindow: "[window:PJSIP/*@office]"))
        // The window's own value wins over [general]'s, both ways; 0 turns it off for that window.
        #expect(rules(lateness: 60, windowLateness: 0).timing(channel: "PJSIP/1@office", due: due, now: utc(2026, 12, 9, 16))
            == .dialNow)
        // Exactly the limit is not too late.
        #expect(rules(lateness: 7200).timing(channel: "SIP/1", due: due, now: utc(2026, 12, 9, 12)) == .dialNow)
    }

    @Test("Retry rules: the first matching section's delay for the outcome's reason, or nil")
    func retryRules() {
        let rules = rules()
        #expect(rules.retryDelay(channel: "PJSIP/1@office", reason: 5) == .after(seconds: 120))
        #expect(rules.retryDelay(channel: "PJSIP/1@office", reason: 0) == RetryDelay.never)
        // The office rule sets no noanswer: the file's RetryTime, not the catch-all's 1800.
        #expect(rules.retryDelay(channel: "PJSIP/1@office", reason: 3) == nil)
        #expect(rules.retryDelay(channel: "SIP/2", reason: 3) == .after(seconds: 1800))
        #expect(rules.retryDelay(channel: "SIP/2", reason: 5) == nil)
        let all = RetryRule(pattern: ChannelPattern("*"), busy: .after(seconds: 1), noAnswer: .after(seconds: 3),
                            congestion: .after(seconds: 8), failure: .after(seconds: 0), hangup: .never)
        #expect([0, 1, 3, 5, 8, 2, 4].map { all.delay(forReason: $0) }
            == [.after(seconds: 0), .never, .after(seconds: 3), .after(seconds: 1), .after(seconds: 8), nil, nil])
    }
}
