import AMITestServer
import Foundation
import TestSupport
import Testing

/// Issue 15, queue control: `spoold queue`, `cancel` and `reschedule` against the real daemon over its
/// control socket.
@Suite("Queue control")
struct QueueControlTests {
    func command(_ arguments: [String]) async throws -> ToolRun {
        try await ToolRun.run(BuiltProducts.spoold, arguments)
    }

    func waitingCall(_ channel: String, archive: Bool = true) -> String {
        callFile(["Channel": channel, "Application": "Wait", "MaxRetries": "2", "RetryTime": "60", "Archive": archive ? "yes" : "no"])
    }

    @Test("queue lists files in three states (in flight, parked by a limit, scheduled), sorted by due time; --json too")
    func queueThreeStates() async throws {
        let spool = try TemporarySpool()
        let now = FileSystem.now()
        try await withSpoold(spool: spool, arguments: ["--limit", "Sim/*/trunk=1", "--shutdown-grace", "0"]) { spoold in
            try spool.submit("live.call", waitingCall("Sim/answer/0/60000/trunk"), due: now - 20)
            try spool.submit("parked.call", waitingCall("Sim/answer/0/0/trunk"), due: now - 10)
            try spool.submit("later.call", waitingCall("Sim/busy"), due: now + 3600)
            try await spoold.waitForLog("[parked.call] due, but the limit for Sim/*/trunk is reached")
            let run = try await command(["queue", "--spool-dir", spool.root])
            #expect(run.status == 0, "\(run)")
            let lines = run.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 4, "\(run)")
            #expect(lines.first?.hasPrefix("NAME") == true)
            let rows = lines.dropFirst().map { $0.split(separator: " ", maxSplits: 1).map(String.init) }
            #expect(rows.map { $0.first ?? "" } == ["parked.call", "live.call", "later.call"], "sorted by due time:\n\(run.stdout)")
            #expect(lines[1].contains("parked by a limit") && lines[1].hasSuffix("0 of 3    Sim/answer/0/0/trunk"), "\(lines[1])")
            #expect(lines[2].contains("in flight, attempt 1 of 3") && lines[2].hasSuffix("0 of 3    Sim/answer/0/60000/trunk"), "\(lines[2])")
            #expect(lines[3].contains("scheduled"), "\(lines[3])")

            let json = try await command(["queue", "--spool-dir", spool.root, "--json"])
            #expect(json.status == 0, "\(json)")
            let objects = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
            #expect(objects.map { $0["name"] as? String } == ["parked.call", "live.call", "later.call"])
            #expect(objects.map { $0["state"] as? String } == ["parked", "in_flight", "scheduled"])
            #expect(objects[1]["attempt"] as? Int == 1)
            #expect(objects[1]["attempts_allowed"] as? Int == 3)
            let laterDue = try #require(objects[2]["due"] as? Double)
            #expect(abs(laterDue - (now + 3600)) < 0.002)
        }
    }

    @Test("cancel of waiting files: archived with Status: Cancelled (Archive: yes) or deleted, in the result log like any finish")
    func cancelWaiting() async throws {
        let spool = try TemporarySpool()
        let resultLog = spool.root + "/results.jsonl"
        let later = waitingCall("Sim/answer")
        try await withSpoold(spool: spool, arguments: ["--result-log", resultLog]) { spoold in
            try spool.submit("keep.call", later, due: FileSystem.now() + 3600)
            try spool.submit("drop.call", waitingCall("Sim/answer", archive: false), due: FileSystem.now() + 3600)
            try await waitUntilAsync("spoold to know both files") {
                let listing = try await command(["queue", "--spool-dir", spool.root]).stdout
                return listing.contains("keep.call") && listing.contains("drop.call")
            }
            let run = try await command(["cancel", "--spool-dir", spool.root, "keep.call", "drop.call"])
            #expect(run.status == 0, "\(run)")
            #expect(run.stdout == "keep.call: cancelled; archived with Status: Cancelled\ndrop.call: cancelled; deleted with Status: Cancelled\n")
            let archived = try await spool.waitForArchive("keep.call", by: spoold)
            #expect(archived.text == later + "Status: Cancelled\n", "never dialled: no StartRetry")
            try await spool.waitForRemoval("drop.call", by: spoold)
            #expect(!FileSystem.exists(spool.donePath("drop.call")))
            try await spoold.waitUntil("both results logged") {
                let text = FileSystem.read(resultLog).map { String(decoding: $0, as: UTF8.self) } ?? ""
                return text.split(separator: "\n").filter { $0.contains("\"status\":\"Cancelled\"") }.count == 2
            }
        }
    }

    @Test("cancel of a call in flight through AMI: Hangup on its ChannelId (recorded by the server), then Status: Cancelled",
          arguments: ["PJSIP/answer/0/60000", "PJSIP/noanswer/60000"])
    func cancelInFlight(channel: String) async throws {
        let spool = try TemporarySpool()
        let text = callFile(["Channel": channel, "WaitTime": "60", "Application": "Wait", "MaxRetries": "2", "RetryTime": "1", "Archive": "yes"])
        try await withAMISpoold(spool: spool) { ami, spoold in
            try spool.submit("live.call", text)
            try await spoold.waitUntil("the Originate at the server") { !ami.originates(channel: channel).isEmpty }
            let channelId = try #require(ami.originates(channel: channel).first?.channelId)
            try await waitUntilAsync("the call to be up") { await ami.server.channelIsUp(channelId) }
            let run = try await command(["cancel", "--spool-dir", spool.root, "live.call"])
            #expect(run.status == 0, "\(run)")
            #expect(run.stdout.contains("live.call: attempt 1 of 3 on \(channel) is in flight: hanging up its call"))
            let archived = try await spool.waitForArchive("live.call", by: spoold)
            #expect(archived.status == "Cancelled")
            #expect(archived.records("StartRetry").count == 1)
            #expect(archived.records("EndRetry").isEmpty, "not retried")
            #expect(ami.server.hangupRequests == [channelId])
            #expect(!(await ami.server.channelIsUp(channelId)))
            #expect(ami.originates(channel: channel).count == 1)
        }
    }

    @Test("reschedule moves a waiting file: --at sets its mtime to that time; --in makes it due then, and it is dialled")
    func reschedule() async throws {
        let spool = try TemporarySpool()
        try await withSpoold(spool: spool) { spoold in
            try spool.submit("move.call", waitingCall("Sim/answer"), due: FileSystem.now() + 3600)
            try await waitUntilAsync("spoold to know the file") {
                try await command(["queue", "--spool-dir", spool.root]).stdout.contains("move.call")
            }
            let target = Int(FileSystem.now()) + 7200
            let at = try await command(["reschedule", "--spool-dir", spool.root, "move.call", "--at", String(target)])
            #expect(at.status == 0, "\(at)")
            #expect(FileSystem.mtime(spool.outgoingPath("move.call")) == Double(target))
            let queued = try await command(["queue", "--spool-dir", spool.root, "--json"])
            #expect(queued.stdout.contains("\"due\":\(target).000"), "\(queued)")

            let before = FileSystem.now()
            let soon = try await command(["reschedule", "--spool-dir", spool.root, "move.call", "--in", "1s"])
            #expect(soon.status == 0, "\(soon)")
            let archived = try await spool.waitForArchive("move.call", by: spoold)
            #expect(archived.status == "Completed")
            let start = try #require(archived.records("StartRetry").first)
            // StartRetry's epoch is the start plus RetryTime (60).
            #expect(Double(start.epoch - 60) >= before.rounded(.down))
        }
    }

    @Test("reschedule of a call in flight is refused with the reason")
    func rescheduleInFlight() async throws {
        let spool = try TemporarySpool()
        try await withSpoold(spool: spool, arguments: ["--shutdown-grace", "0"]) { spoold in
            try spool.submit("live.call", waitingCall("Sim/answer/0/60000"))
            try await spoold.waitForLog("[live.call] attempt 1 of 3")
            let run = try await command(["reschedule", "--spool-dir", spool.root, "live.call", "--in", "1h"])
            #expect(run.status == 1, "\(run)")
            #expect(run.stderr == "spoold reschedule: live.call: attempt 1 of 3 on Sim/answer/0/60000 is in flight; only a waiting file can be rescheduled\n")
        }
    }

    @Test("Without a spoold on the spool each command says so and exits 1; an unknown name too; the socket goes with spoold")
    func noDaemonAndUnknownName() async throws {
        let spool = try TemporarySpool()
        for arguments in [["queue"], ["cancel", "a.call"], ["reschedule", "a.call", "--in", "5m"]] {
            let run = try await command(arguments + ["--spool-dir", spool.root])
            #expect(run.status == 1, "\(run)")
            #expect(run.stderr == "spoold \(arguments[0]): no spoold runs on \(spool.root) (there is no \(spool.root)/.spoold.lock)\n")
        }
        let socket = spool.root + "/.spoold.control"
        try await withSpoold(spool: spool) { _ in
            let mode = try #require(FileSystem.lstatus(socket)).st_mode
            #expect(mode & S_IFMT == S_IFSOCK)
            let outgoingMode = try #require(FileSystem.lstatus(spool.outgoing)).st_mode
            // Who may write outgoing/ may connect (connecting needs write permission on the socket).
            let expected: mode_t = 0o600 | (outgoingMode & 0o020 != 0 ? 0o060 : 0) | (outgoingMode & 0o002 != 0 ? 0o006 : 0)
            #expect(mode & 0o777 == expected)
            for arguments in [["cancel", "nosuch.call"], ["reschedule", "nosuch.call", "--in", "5m"]] {
                let run = try await command(arguments + ["--spool-dir", spool.root])
                #expect(run.status == 1, "\(run)")
                #expect(run.stderr == "spoold \(arguments[0]): nosuch.call: spoold knows no call file named 'nosuch.call' in outgoing/ (finished already, never there, or a dot-file)\n")
            }
        }
        #expect(!FileSystem.exists(socket), "removed at a clean shutdown")
        let after = try await command(["queue", "--spool-dir", spool.root])
        #expect(after.stderr == "spoold queue: no spoold runs on \(spool.root) (nothing holds \(spool.root)/.spoold.lock)\n")
    }
}
