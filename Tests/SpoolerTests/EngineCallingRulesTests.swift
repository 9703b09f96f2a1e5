import CallFile
import EngineTestSupport
import Testing
@testable import Spooler

/// Calling windows, max_lateness and retry rules per outcome as the core applies them (issue 15), with the
/// clock and the time zones injected: real tz database rules, no clock read, no directory.
@Suite("Engine: calling windows, max_lateness, retry rules")
struct EngineCallingRulesTests {
    static let call = callText(["Channel": "Sim/busy", "MaxRetries": "2", "RetryTime": "5", "Application": "Playback",
                                "Data": "x", "Archive": "yes"])

    static func window(pattern: String = "Sim/*", days: Weekdays = .all, _ ranges: String..., zone: ZoneRules = .init(name: "UTC", fixedOffset: 0),
                       maxLateness: Int? = nil) -> CallingWindow {
        CallingWindow(pattern: ChannelPattern(pattern), days: days, hours: ranges.map(hours), zone: zone, maxLateness: maxLateness)
    }

    /// A started kit at `now` with `rules`, and `call` submitted with mtime `due` (default: now).
    static func kit(_ rules: CallingRules, now: SpoolInstant, due: SpoolInstant? = nil, text: String = call) -> EngineCoreKit {
        var kit = EngineCoreKit(rules: rules)
        kit.now = now
        kit.start()
        kit.submit("c.call", text, mtime: due ?? now)
        kit.tick()
        return kit
    }

    // MARK: Windows

    @Test("Inside its window (Wednesday 10:00 in Berlin, mon-fri 09:00-17:00) a file is dialled at once")
    func inside() throws {
        let rules = CallingRules(windows: [Self.window(days: [.monday, .tuesday, .wednesday, .thursday, .friday], "09:00-17:00",
                                                       zone: try systemZone("Europe/Berlin"))])
        let kit = Self.kit(rules, now: utc(2026, 12, 9, 9))
        #expect(kit.dialled == ["c.call"])
        #expect(kit.core.heldCount == 0)
    }

    @Test("Outside its window a file is held: not dialled, its mtime and the schedule say when, dialled then")
    func outsideHeldThenDialled() throws {
        let berlin = try systemZone("Europe/Berlin")
        let rules = CallingRules(windows: [Self.window(pattern: "PJSIP/*", "00:00-24:00"),
                                           Self.window(days: [.monday, .tuesday, .wednesday, .thursday, .friday], "09:00-17:00", zone: berlin)])
        // Friday 18:30 in Berlin (17:30 UTC): the window opens on Monday at 09:00 Berlin, 08:00 UTC.
        var kit = Self.kit(rules, now: utc(2026, 12, 11, 17, 30))
        let monday = utc(2026, 12, 14, 8)
        #expect(kit.dialled.isEmpty)
        #expect(kit.core.state(of: "c.call") == .held(until: monday))
        #expect(kit.actions.contains(.setMtime("c.call", monday)))
        #expect(kit.outgoing["c.call"]?.mtime == monday)
        #expect(kit.outgoing["c.call"]?.text == Self.call)  // nothing written, nothing counted
        #expect(kit.wake == monday)
        #expect(kit.core.heldCount == 1)
        #expect(kit.logged("[c.call] due, but held by [window:Sim/*] until Mon 09:00 Europe/Berlin (08:00:00 UTC); not dialled before then"))
        // The watcher reports spoold's own utime: still held, not taken for a touch.
        kit.feed(.change(.changed("c.call")))
        #expect(kit.core.state(of: "c.call") == .held(until: monday))
        kit.advance(to: monday.adding(seconds: -1))
        #expect(kit.dialled.isEmpty)
        kit.advance(to: monday)
        #expect(kit.started("c.call") == [1])
        #expect(kit.core.heldCount == 0)
    }

    @Test("A held file touched by someone else goes by its new mtime; one removed is forgotten")
    func heldTouchedOrRemoved() {
        let rules = CallingRules(windows: [Self.window("09:00-17:00")])
        var kit = Self.kit(rules, now: utc(2026, 12, 9, 18))
        #expect(kit.core.state(of: "c.call") == .held(until: utc(2026, 12, 10, 9)))
        kit.outgoing["c.call"]!.mtime = utc(2026, 12, 10, 12)
        kit.feed(.change(.changed("c.call")))
        #expect(kit.core.state(of: "c.call") == .scheduled)
        #expect(kit.core.due(of: "c.call") == utc(2026, 12, 10, 12))
        kit.advance(to: utc(2026, 12, 10, 12))
        #expect(kit.started("c.call") == [1])

        var removed = Self.kit(rules, now: utc(2026, 12, 9, 18))
        removed.outgoing["c.call"] = nil
        removed.feed(.change(.removed("c.call")))
        #expect(removed.core.state(of: "c.call") == nil && removed.core.scheduledCount == 0)
    }

    @Test("A held file whose times spoold cannot set keeps its mtime: held all the same, a rescan no touch, one warning")
    func heldStuckTimes() {
        var kit = EngineCoreKit(rules: CallingRules(windows: [Self.window("09:00-17:00")]))
        kit.now = utc(2026, 12, 9, 18)
        kit.start()
        kit.put("c.call", Self.call, mtime: kit.now)
        kit.outgoing["c.call"]!.timesSettable = false
        kit.feed(.change(.appeared("c.call")))
        kit.tick()
        let opening = utc(2026, 12, 10, 9)
        #expect(kit.core.state(of: "c.call") == .held(until: opening))
        #expect(kit.outgoing["c.call"]?.mtime == utc(2026, 12, 9, 18))
        for _ in 0..<3 { kit.feed(.change(.rescan(["c.call"], reason: .poll))); kit.tick() }
        #expect(kit.core.state(of: "c.call") == .held(until: opening))
        #expect(kit.logLines.filter { $0.contains("due, but held by") }.count == 1)
        #expect(kit.logLines.filter { $0.contains("cannot set the file's times") }.count == 1)
        kit.advance(to: opening)
        #expect(kit.started("c.call") == [1])
    }

    @Test("A window across midnight belongs to the day it starts on", arguments: [
        // (now UTC, expected: nil = dialled, else held until)
        (utc(2026, 12, 11, 23, 30), nil),                    // Friday 23:30: open
        (utc(2026, 12, 12, 5, 59), nil),                     // Saturday 05:59: Friday's range still runs
        (utc(2026, 12, 12, 6, 0), utc(2026, 12, 14, 22)),    // Saturday 06:00: closed until Monday 22:00
        (utc(2026, 12, 14, 21, 0), utc(2026, 12, 14, 22)),   // Monday 21:00: opens at 22:00
        (utc(2026, 12, 15, 3, 0), nil),                      // Tuesday 03:00: Monday's range
    ] as [(SpoolInstant, SpoolInstant?)])
    func acrossMidnight(now: SpoolInstant, heldUntil: SpoolInstant?) {
        let rules = CallingRules(windows: [Self.window(days: [.monday, .tuesday, .wednesday, .thursday, .friday], "22:00-06:00")])
        let kit = Self.kit(rules, now: now)
        if let heldUntil {
            #expect(kit.dialled.isEmpty)
            #expect(kit.core.state(of: "c.call") == .held(until: heldUntil))
        } else {
            #expect(kit.dialled == ["c.call"])
        }
    }

    @Test("Daylight-saving change days: the window keeps local hours", arguments: [
        // Berlin, 08:00-20:00: Saturday 28 March 08:00 CET = 07:00 UTC; Sunday 29 March 08:00 CEST = 06:00 UTC.
        ("Europe/Berlin", utc(2026, 3, 28, 6, 30), utc(2026, 3, 28, 7)),
        ("Europe/Berlin", utc(2026, 3, 29, 5, 30), utc(2026, 3, 29, 6)),
        // Sunday 25 October: back to CET, 08:00 = 07:00 UTC; 20:00 CEST on the Saturday is 18:00 UTC.
        ("Europe/Berlin", utc(2026, 10, 25, 6, 30), utc(2026, 10, 25, 7)),
        ("Europe/Berlin", utc(2026, 10, 24, 18, 0), utc(2026, 10, 25, 7)),
        // New York: Sunday 8 March, EDT from 02:00, 08:00 = 12:00 UTC; Sunday 1 November, EST, 08:00 = 13:00 UTC.
        ("America/New_York", utc(2026, 3, 8, 11, 0), utc(2026, 3, 8, 12)),
        ("America/New_York", utc(2026, 11, 1, 12, 30), utc(2026, 11, 1, 13)),
        ("America/New_York", utc(2026, 11, 1, 1, 0), utc(2026, 11, 1, 13)),  // 21:00 EDT on Saturday 31 October: closed
    ])
    func daylightSaving(zone: String, now: SpoolInstant, heldUntil: SpoolInstant) throws {
        let rules = CallingRules(windows: [Self.window("08:00-20:00", zone: try systemZone(zone))])
        var kit = Self.kit(rules, now: now)
        #expect(kit.dialled.isEmpty)
        #expect(kit.core.state(of: "c.call") == .held(until: heldUntil))
        kit.advance(to: heldUntil)
        #expect(kit.dialled == ["c.call"])
    }

    @Test("A retry due outside the window is held too, then dialled as the next attempt")
    func retryHeld() {
        let rules = CallingRules(windows: [Self.window("09:00-17:00")])
        var kit = Self.kit(rules, now: utc(2026, 12, 9, 16, 59).adding(seconds: 58))
        #expect(kit.started("c.call") == [1])
        kit.report("c.call", .failed(reason: 5, text: ReasonText.text(for: 5)))
        kit.advance(to: utc(2026, 12, 9, 17, 0).adding(seconds: 3))
        #expect(kit.core.state(of: "c.call") == .held(until: utc(2026, 12, 10, 9)))
        #expect(kit.started("c.call") == [1])
        kit.advance(to: utc(2026, 12, 10, 9))
        #expect(kit.started("c.call") == [1, 2])
    }

    @Test("A reload decides held files again at once: a window widened dials them, one removed too")
    func reloadRedecides() {
        let rules = CallingRules(windows: [Self.window("09:00-17:00")])
        var kit = Self.kit(rules, now: utc(2026, 12, 9, 18))
        #expect(kit.core.heldCount == 1)
        kit.feed(.limits(EngineLimits(maxConcurrent: 0, maxCallsPerSecond: 0, trunks: [],
                                      callingRules: CallingRules(windows: [Self.window("09:00-20:00")]))))
        kit.tick()
        #expect(kit.dialled == ["c.call"])
        #expect(kit.logged("limits now:", "1 calling window, 0 retry rules, max_lateness off"))
    }

    // MARK: max_lateness

    @Test("[general] max_lateness: a file more late than that is Expired without a dial, and says why")
    func generalLateness() {
        var kit = Self.kit(CallingRules(maxLateness: 3600), now: EngineCoreKit.t0, due: EngineCoreKit.t0.adding(seconds: -7200))
        #expect(kit.dialled.isEmpty)
        kit.completeMoves()
        #expect(kit.finished("c.call").map { $0 == (.expired, .archived("c.call")) } == true)
        #expect(kit.done["c.call"] == Self.call + "Status: Expired\n")
        #expect(kit.logged("[c.call] expired: 7200 s late, over max_lateness 3600 s ([general]); not dialled"))
        #expect(kit.emitted.contains { if case .finished("c.call", .expired, _, "Expired without a dial: 7200 s late, over max_lateness 3600 s ([general])") = $0 { true } else { false } })

        let inTime = Self.kit(CallingRules(maxLateness: 3600), now: EngineCoreKit.t0, due: EngineCoreKit.t0.adding(seconds: -3600))
        #expect(inTime.dialled == ["c.call"])
    }

    @Test("A window's max_lateness: a file its window would hold past that is Expired at once")
    func windowLateness() {
        let rules = CallingRules(windows: [Self.window("09:00-17:00", maxLateness: 3600)])
        var kit = Self.kit(rules, now: utc(2026, 12, 9, 17, 30), due: utc(2026, 12, 9, 16, 59))
        #expect(kit.dialled.isEmpty)
        kit.completeMoves()
        #expect(kit.finished("c.call")?.0 == .expired)
        #expect(kit.logged("[c.call] expired: 57660 s late, as [window:Sim/*] opens only at Thu 09:00 UTC, over max_lateness 3600 s ([window:Sim/*]); not dialled"))
        // Held when the opening is within the limit.
        let held = Self.kit(rules, now: utc(2026, 12, 10, 8, 30), due: utc(2026, 12, 10, 8, 10))
        #expect(held.core.state(of: "c.call") == .held(until: utc(2026, 12, 10, 9)))
    }

    // MARK: Retry rules

    static let retryRule = RetryRule(pattern: ChannelPattern("Sim/*"), busy: .after(seconds: 120), noAnswer: .after(seconds: 1800),
                                     congestion: .after(seconds: 30), failure: .after(seconds: 600), hangup: .after(seconds: 45))

    @Test("Each outcome's delay: the next attempt that long after the end, in the records' mtime; not RetryTime",
          arguments: [(5, "busy", 120), (3, "noanswer", 1800), (8, "congestion", 30), (0, "failure", 600), (1, "hangup", 45)])
    func retryDelay(reason: Int, key: String, delay: Int) {
        var kit = Self.kit(CallingRules(retryRules: [Self.retryRule]), now: EngineCoreKit.t0)
        kit.advance(by: .seconds(3))
        let ended = kit.now
        kit.report("c.call", .failed(reason: reason, text: ReasonText.text(for: reason)))
        let due = ended.adding(seconds: delay)
        #expect(kit.emitted.contains(.retryScheduled(file: "c.call", attempt: 1, reason: reason, nextDue: due)))
        #expect(kit.outgoing["c.call"]?.mtime == due)
        #expect(kit.outgoing["c.call"]?.text == Self.call + "\nStartRetry: 2381 1 (\(EngineCoreKit.t0.seconds + 5))\n\nEndRetry: 2381 1 (\(ended.seconds))\n")
        #expect(kit.logged("[c.call] attempt 1 of 3 on Sim/busy: failed, reason \(reason)", "next attempt at \(due.timeOfDay) ([retry:Sim/*] \(key) = \(delay) s)"))
        kit.advance(to: ended.adding(seconds: 5))  // RetryTime: not yet
        #expect(kit.started("c.call") == [1])
        kit.advance(to: due)
        #expect(kit.started("c.call") == [1, 2])
    }

    @Test("An outcome the rule leaves unset, or a channel no rule matches, retries after RetryTime")
    func retryUnset() {
        let rules = CallingRules(retryRules: [RetryRule(pattern: ChannelPattern("Sim/*"), noAnswer: .after(seconds: 1800)),
                                              RetryRule(pattern: ChannelPattern("*"), busy: .after(seconds: 99))])
        var kit = Self.kit(rules, now: EngineCoreKit.t0)
        kit.report("c.call", .failed(reason: 5, text: ReasonText.text(for: 5)))
        #expect(kit.emitted.contains(.retryScheduled(file: "c.call", attempt: 1, reason: 5, nextDue: EngineCoreKit.t0.adding(seconds: 5))))
    }

    @Test("never: the file ends at once as Expired, no EndRetry, and says which rule")
    func retryNever() {
        let rules = CallingRules(retryRules: [RetryRule(pattern: ChannelPattern("Sim/*"), failure: .never)])
        var kit = Self.kit(rules, now: EngineCoreKit.t0)
        kit.report("c.call", .failed(reason: 0, text: ReasonText.text(for: 0)))
        kit.completeMoves()
        #expect(kit.finished("c.call")?.0 == .expired)
        #expect(kit.done["c.call"] == Self.call + "\nStartRetry: 2381 1 (\(EngineCoreKit.t0.seconds + 5))\nStatus: Expired\n")
        #expect(kit.logged("[c.call] attempt 1 of 3 on Sim/busy: failed, reason 0", "[retry:Sim/*] failure = never: no more attempts"))
        #expect(kit.emitted.contains { if case .finished("c.call", .expired, _, "Expired after 1 attempts ([retry:Sim/*] failure = never)") = $0 { true } else { false } })
    }

    @Test("MaxRetries still bounds the attempts under a retry rule")
    func maxRetriesBounds() {
        var kit = Self.kit(CallingRules(retryRules: [Self.retryRule]), now: EngineCoreKit.t0)
        for _ in 0..<2 {
            kit.report("c.call", .failed(reason: 8, text: ReasonText.text(for: 8)))
            kit.advance(by: .seconds(30))
        }
        // The last attempt ends the file where it ends: no EndRetry, as Asterisk writes it.
        kit.report("c.call", .failed(reason: 8, text: ReasonText.text(for: 8)))
        kit.completeMoves()
        #expect(kit.started("c.call") == [1, 2, 3])
        #expect(kit.finished("c.call")?.0 == .expired)
        #expect(kit.done["c.call"]?.components(separatedBy: "EndRetry:").count == 3)
        #expect(kit.logged("[c.call] attempt 3 of 3 on Sim/busy: failed, reason 8", "no attempts left"))
        #expect(kit.logged("[c.call] finished: Expired after 3 attempts; archived"))
    }
}
