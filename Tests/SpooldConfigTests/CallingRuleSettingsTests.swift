import Testing
@testable import SpooldConfig

@Suite("spoold.conf: [window:PATTERN], [retry:PATTERN] and max_lateness")
struct CallingRuleSettingsTests {
    /// Only these two zones "exist", so the tests do not depend on the machine's tz database.
    func read(_ text: String) -> (layer: SettingsLayer, errors: [String]) {
        let (layer, errors) = SettingsReader.read(Array(text.utf8), file: "/etc/spoold/spoold.conf",
                                                  timeZoneExists: { ["Europe/Berlin", "America/New_York"].contains($0) })
        return (layer, errors.map(\.description))
    }

    @Test("A window with days, hours, time zone and its own max_lateness; max_lateness in [general]")
    func window() {
        let (layer, errors) = read("""
            [general]
            max_lateness = 7200

            [window:PJSIP/*@office]
            days = mon-fri
            hours = 09:00-12:30, 14:00-20:00
            timezone = Europe/Berlin
            max_lateness = 600

            [window:*]
            hours = 22:00-06:00
            days = fri-mon, wed
            """)
        #expect(errors.isEmpty)
        #expect(layer.maxLateness == 7200)
        #expect(layer.windows == [
            WindowSettings(pattern: "PJSIP/*@office", line: 4, days: 0b0111110,
                           hours: [.init(start: 540, end: 750), .init(start: 840, end: 1200)],
                           timeZone: "Europe/Berlin", maxLateness: 600),
            // fri-mon wraps past Sunday: fri, sat, sun, mon; plus wed.
            WindowSettings(pattern: "*", line: 10, days: 0b1101011, hours: [.init(start: 1320, end: 360)]),
        ])
    }

    @Test("Days: lists, ranges, full names; anything else is refused with file:line")
    func badDays() {
        #expect(read("[window:*]\ndays = Monday-Friday\nhours = 00:00-24:00\n").layer.windows.first?.days == 0b0111110)
        let (_, errors) = read("[window:*]\nhours = 09:00-17:00\ndays = mon-fry\n")
        #expect(errors == [#"/etc/spoold/spoold.conf:3: days: "fry" is not a weekday; expected weekdays as a list of days and ranges, e.g. mon-fri or mon,wed,fri or sat-sun (mon tue wed thu fri sat sun)"#])
        #expect(read("[window:*]\nhours = 09:00-17:00\ndays = mon-tue-wed\n").errors.count == 1)
        #expect(read("[window:*]\nhours = 09:00-17:00\ndays = mon,,fri\n").errors.count == 1)
    }

    @Test("Hours: HH:MM-HH:MM ranges up to 24:00; empty, malformed and out-of-range ones are refused")
    func badHours() {
        for bad in ["9-17", "09:00-17:60", "25:00-26:00", "09:00-09:00", "24:00-06:00", "09:00", "09:00-17:00,", "9:00-17:00"] {
            let (layer, errors) = read("[window:*]\nhours = \(bad)\n")
            #expect(errors.count == 1, "\(bad)")
            #expect(errors.first?.hasPrefix("/etc/spoold/spoold.conf:2: hours: ") == true, "\(bad)")
            #expect(layer.windows.isEmpty)
        }
        let (_, errors) = read("[window:*]\nhours = 09:00-09:00\n")
        #expect(errors == [#"/etc/spoold/spoold.conf:2: hours: "09:00-09:00" is empty (it starts when it ends); for the whole day write 00:00-24:00"#])
        #expect(read("[window:*]\ndays = mon\n").errors
            == ["/etc/spoold/spoold.conf:1: [window:*]: sets no hours; add hours = HH:MM-HH:MM[, HH:MM-HH:MM…] (local time, e.g. 09:00-20:00)"])
    }

    @Test("An unknown time zone, or a name that is a path, is refused with file:line")
    func badTimeZone() {
        let (_, errors) = read("[window:*]\nhours = 09:00-17:00\ntimezone = Europe/Berln\n")
        #expect(errors == [#"/etc/spoold/spoold.conf:3: timezone: "Europe/Berln" is not a time zone of this system's tz database (/usr/share/zoneinfo); expected an IANA name such as Europe/Berlin or America/New_York"#])
        for path in ["../../etc/passwd", "/etc/localtime", "Europe/./Berlin", "Europe//Berlin"] {
            #expect(TimeZoneDatabase.path(of: path) == nil, "\(path)")
        }
        #expect(TimeZoneDatabase.path(of: "America/Argentina/Buenos_Aires") == "/usr/share/zoneinfo/America/Argentina/Buenos_Aires")
    }

    @Test("The system's tz database is read for real: a zone file exists, a made-up name does not")
    func systemDatabase() {
        #expect(TimeZoneDatabase.exists("Europe/Berlin"))
        #expect(!TimeZoneDatabase.exists("Europe/Berln"))
        #expect(!TimeZoneDatabase.exists("Europe"))  // a directory
    }

    @Test("Retry sections: seconds or never per outcome; other values and keys are refused")
    func retry() {
        let (layer, errors) = read("""
            [retry:PJSIP/*]
            busy = 120
            noanswer = 1800
            congestion = 60
            failure = never
            hangup = 0
            """)
        #expect(errors.isEmpty)
        #expect(layer.retryRules == [RetrySettings(pattern: "PJSIP/*", line: 1, busy: .seconds(120), noAnswer: .seconds(1800),
                                                   congestion: .seconds(60), failure: .never, hangup: .seconds(0))])
        #expect(read("[retry:*]\nbusy = soon\n").errors
            == [#"/etc/spoold/spoold.conf:2: busy: "soon" is not valid; expected whole seconds before the next attempt (0 to 31536000) or never"#])
        #expect(read("[retry:*]\nbusy = -1\n").errors.count == 1)
        #expect(read("[retry:*]\nbussy = 5\n").errors.first?.contains("did you mean busy?") == true)
        #expect(read("[retry:*]\n").errors == ["/etc/spoold/spoold.conf:1: [retry:*]: sets no delay; add busy, noanswer, congestion, failure and/or hangup (seconds or never)"])
        #expect(read("[retry:]\nbusy = 1\n").errors.count == 1)
    }

    @Test("max_lateness: whole seconds from 0 to a year")
    func maxLateness() {
        #expect(read("[general]\nmax_lateness = 0\n").layer.maxLateness == 0)
        #expect(read("[general]\nmax_lateness = 1.5\n").errors.count == 1)
        #expect(read("[general]\nmax_lateness = 31536001\n").errors.count == 1)
        #expect(read("[window:*]\nhours = 09:00-17:00\nmax_lateness = x\n").errors.count == 1)
    }

    @Test("The merged settings carry the file's windows, retry rules and max_lateness")
    func resolved() throws {
        let (layer, errors) = read("[general]\nbackend = simulate\nmax_lateness = 60\n[window:*]\nhours = 09:00-17:00\n[retry:*]\nbusy = 5\n")
        #expect(errors.isEmpty)
        let settings = try SpooldSettings.resolve(commandLine: SettingsLayer(source: SettingsLayer.commandLine), file: layer,
                                                  environment: [:]).get()
        #expect(settings.maxLateness == 60)
        #expect(settings.windows.count == 1 && settings.retryRules.count == 1)
    }
}
