#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TestSupport
import Testing

/// Issue 15's calling windows, max_lateness and retry rules per outcome, with the built spoold against the
/// in-test AMI server, which records every Originate it receives.
@Suite("Calling windows, stale calls and retry rules, end to end")
struct CallingRulesEndToEndTests {
    func writeConfig(_ spool: TemporarySpool, _ text: String) throws -> String {
        let path = spool.root + "/spoold.conf"
        // Written beside and renamed in, so a reload never reads half a file.
        try FileSystem.write(Array(text.utf8), to: path + ".new", mode: 0o644)
        try FileSystem.rename(path + ".new", path)
        return path
    }

    /// The first whole minute at least `lead` seconds ahead, as epoch seconds and as `HH:MM` in `zone`.
    static func nextMinute(in zone: String, lead: Int = 15) throws -> (epoch: Int, clock: String, end: String) {
        let timeZone = try #require(TimeZone(identifier: zone))
        let start = (Int(Date().timeIntervalSince1970) + lead + 59) / 60 * 60
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        func clock(_ epoch: Int) -> String {
            let parts = calendar.dateComponents([.hour, .minute], from: Date(timeIntervalSince1970: Double(epoch)))
            return String(format: "%02d:%02d", parts.hour!, parts.minute!)
        }
        return (start, clock(start), clock(start + 600))
    }

    @Test("A file outside its window is not dialled, shows the opening as its mtime and in status, and is dialled when the window opens")
    func heldUntilTheWindowOpens() async throws {
        let spool = try TemporarySpool()
        let zone = "America/New_York"
        let opening = try Self.nextMinute(in: zone)
        // The window opens at the next whole minute (New York time) and stays open ten minutes.
        let config = try writeConfig(spool, """
            [general]
            spool_dir = \(spool.root)
            [window:PJSIP/*]
            days = mon-sun
            hours = \(opening.clock)-\(opening.end)
            timezone = \(zone)
            """)
        try await withAMISpoold(spool: spool, arguments: ["--config", config]) { ami, spoold in
            try spool.submit("window.call", callFile(["Channel": "PJSIP/answer", "Application": "Playback", "Data": "x",
                                                      "RetryTime": "7", "Archive": "yes"]))
            try await spoold.waitForLog("[window.call] due, but held by [window:PJSIP/*] until")
            #expect(spoold.log.contains("\(opening.clock) \(zone)"), "\(spoold.tail)")
            #expect(ami.originates(channel: "PJSIP/answer").isEmpty)
            try await spoold.waitUntil("the mtime to show the opening") {
                FileSystem.mtime(spool.outgoingPath("window.call")) == Double(opening.epoch)
            }
            // spoold status shows it as held by a window (the status file is written about once a second).
            var held: Int?
            try await waitUntilAsync("spoold status to show the held file", every: .milliseconds(200), details: { spoold.tail }) {
                let status = try await ObservabilityEndToEndTests.status(["--spool-dir", spool.root, "--json"])
                held = (try? JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["held"] as? Int
                return held == 1 || Int(Date().timeIntervalSince1970) >= opening.epoch
            }
            #expect(held == 1, "status never showed the held file before the window opened")
            #expect(ami.originates(channel: "PJSIP/answer").isEmpty || Int(Date().timeIntervalSince1970) >= opening.epoch)
            let archived = try await spool.waitForArchive("window.call", by: spoold, timeout: .seconds(90))
            #expect(archived.status == "Completed")
            #expect(ami.originates(channel: "PJSIP/answer").count == 1)
            // StartRetry's epoch is the dial time plus RetryTime: the dial came when the window opened.
            let start = try #require(archived.records.first)
            #expect(start.tag == "StartRetry" && start.epoch - 7 >= opening.epoch, "\(archived.records) vs opening \(opening.epoch)")
        }
    }

    @Test("SIGHUP reloads the windows: a held file is dialled at once when the new window is open")
    func reloadOpensTheWindow() async throws {
        let spool = try TemporarySpool()
        // A one-minute window twelve hours away: closed now, whatever the time.
        let far = try Self.nextMinute(in: "UTC", lead: 12 * 3600)
        let closedEnd = String(format: "%02d:%02d", (far.epoch / 60 + 1) / 60 % 24, (far.epoch / 60 + 1) % 60)
        let config = try writeConfig(spool, "[window:PJSIP/*]\nhours = \(far.clock)-\(closedEnd)\ntimezone = UTC\n")
        try await withAMISpoold(spool: spool, arguments: ["--config", config]) { ami, spoold in
            try spool.submit("reload.call", callFile(["Channel": "PJSIP/answer", "Application": "Playback", "Data": "x",
                                                      "Archive": "yes"]))
            try await spoold.waitForLog("[reload.call] due, but held by [window:PJSIP/*] until")
            _ = try writeConfig(spool, "[window:PJSIP/*]\nhours = 00:00-24:00\ntimezone = UTC\n")
            spoold.signal(SIGHUP)
            try await spoold.waitForLog("configuration reloaded: applied window sections")
            #expect(try await spool.waitForArchive("reload.call", by: spoold).status == "Completed")
            #expect(ami.originates(channel: "PJSIP/answer").count == 1)
        }
    }

    @Test("max_lateness: a stale file is Expired without a dial, and the log and the result log say why")
    func staleFileExpires() async throws {
        let spool = try TemporarySpool()
        let results = spool.root + "/results.jsonl"
        let config = try writeConfig(spool, "[general]\nmax_lateness = 600\nresult_log = \(results)\n")
        try await withAMISpoold(spool: spool, arguments: ["--config", config]) { ami, spoold in
            try spool.submit("stale.call", callFile(["Channel": "PJSIP/answer", "Application": "Playback", "Data": "x",
                                                     "Archive": "yes"]), due: Date().timeIntervalSince1970 - 3600)
            try spool.submit("fresh.call", callFile(["Channel": "PJSIP/answer/0/0", "Application": "Playback", "Data": "x",
                                                     "Archive": "yes"]), due: Date().timeIntervalSince1970 - 300)
            let stale = try await spool.waitForArchive("stale.call", by: spoold)
            #expect(stale.status == "Expired")
            #expect(stale.records.isEmpty, "never dialled: \(stale.records)")
            #expect(try await spool.waitForArchive("fresh.call", by: spoold).status == "Completed")
            #expect(ami.originates(channel: "PJSIP/answer").isEmpty)
            #expect(ami.originates(channel: "PJSIP/answer/0/0").count == 1)
            try await spoold.waitForLogLine("saying how late stale.call was") {
                $0.contains("[stale.call] expired: 36") && $0.contains("s late, over max_lateness 600 s ([general]); not dialled")
            }
            try await spoold.waitUntil("the result-log line") {
                let text = FileSystem.read(results).map { String(decoding: $0, as: UTF8.self) } ?? ""
                return text.split(separator: "\n").contains {
                    $0.contains("\"stale.call\"") && $0.contains("Expired without a dial: 36") && $0.contains("over max_lateness 600 s ([general])")
                }
            }
        }
    }

    @Test("A busy call is retried after the [retry] delay, not after its RetryTime")
    func busyRetriedByRule() async throws {
        let spool = try TemporarySpool()
        let config = try writeConfig(spool, "[retry:PJSIP/*]\nbusy = 2\nnoanswer = 900\n")
        try await withAMISpoold(spool: spool, arguments: ["--config", config]) { ami, spoold in
            // RetryTime 300: without the rule the second attempt would come five minutes later.
            try spool.submit("busy.call", callFile(["Channel": "PJSIP/busy", "Application": "Playback", "Data": "x",
                                                    "MaxRetries": "1", "RetryTime": "300", "Archive": "yes"]))
            let archived = try await spool.waitForArchive("busy.call", by: spoold, timeout: .seconds(30))
            #expect(archived.status == "Expired")
            #expect(archived.records.map(\.tag) == ["StartRetry", "EndRetry", "StartRetry"])
            #expect(ami.originates(channel: "PJSIP/busy").count == 2)
            let end = archived.records[1], second = archived.records[2]
            let secondStart = second.epoch - 300
            #expect(secondStart - end.epoch >= 2 && secondStart - end.epoch <= 2 + Int(10 * TestTimeScale.factor),
                    "attempt 2 started \(secondStart - end.epoch) s after attempt 1 ended: \(archived.records)")
            try await spoold.waitForLog("next attempt at")
            #expect(spoold.log.contains("([retry:PJSIP/*] busy = 2 s)"), "\(spoold.tail)")
        }
    }

    @Test("--check-config rejects bad days, bad hours and an unknown time zone with file:line errors")
    func checkConfigRejects() async throws {
        let spool = try TemporarySpool()
        let config = try writeConfig(spool, """
            [window:PJSIP/*]
            days = mon-fry
            hours = 9:00-17:00
            timezone = Europe/Atlantis
            [retry:*]
            busy = soon
            """)
        let run = try await ToolRun.run(BuiltProducts.spoold, ["run", "--config", config, "--check-config"])
        #expect(run.status == 1, "\(run)")
        let lines = run.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(run)")
        #expect(lines.contains { $0.hasPrefix("\(config):2: days: \"fry\" is not a weekday") }, "\(run)")
        #expect(lines.contains { $0.hasPrefix("\(config):3: hours: \"9:00-17:00\" is not valid") }, "\(run)")
        #expect(lines.contains { $0.hasPrefix("\(config):4: timezone: \"Europe/Atlantis\" is not a time zone") }, "\(run)")
        #expect(lines.contains { $0.hasPrefix("\(config):6: busy: \"soon\" is not valid") }, "\(run)")

        let good = try writeConfig(spool, """
            [general]
            backend = simulate
            max_lateness = 3600
            [window:PJSIP/*]
            days = mon-fri
            hours = 09:00-12:30, 14:00-20:00
            timezone = Europe/Berlin
            [retry:*]
            busy = 120
            failure = never
            """)
        let valid = try await ToolRun.run(BuiltProducts.spoold, ["run", "--config", good, "--check-config"])
        #expect(valid.status == 0, "\(valid)")
        #expect(valid.stdout.contains("window PJSIP/*: days mon,tue,wed,thu,fri, hours 09:00-12:30, 14:00-20:00, timezone Europe/Berlin"), "\(valid)")
        #expect(valid.stdout.contains("retry *: busy 120 s, failure never"), "\(valid)")
    }
}
