import Foundation
import TestSupport
import Testing

/// `spoold run --standby`: a second spoold on the same spool waits for the spool lock instead of exiting,
/// and takes over when the active one dies, recovering its calls in flight as after a crash.
@Suite("Standby", .serialized)
struct StandbyTests {
    @Test("kill -9 the active spoold mid-burst: the standby takes over within 2 s; every file archived once, none dialled beyond its attempts")
    func standbyTakesOverMidBurst() async throws {
        let spool = try TemporarySpool()
        let ami = try await AMIHarness.start(spool: spool)
        do {
            try await burstWithKill(spool: spool, ami: ami)
            try await ami.server.stop()
        } catch {
            try? await ami.server.stop()
            throw error
        }
    }

    private func burstWithKill(spool: TemporarySpool, ami: AMIHarness) async throws {
        // A few calls at a time, each answered and up for over a second, so that calls are in flight
        // whenever the kill lands. Each file has its own channel (its talk time), so the server's record
        // of Originates tells the files apart.
        let limits = ["--max-concurrent", "6", "--max-cps", "20"]
        let active = try await SpooldProcess.started(spool: spool, arguments: ami.spooldArguments + limits, backend: "ami")
        let standby = try SpooldProcess(spool: spool, arguments: ami.spooldArguments + limits + ["--standby"], backend: "ami")
        defer { active.kill(); standby.kill() }
        let holder = "standby: spool held by pid \(active.pid) on \(thisHostName())"
        try await standby.waitForLog(holder)
        #expect(!standby.log.contains("spoold ready"), "a standby must not start its engine while the spool is held")

        // No retry: a second dial of any file, by either spoold, is one more than the file allows.
        let maxRetries = 0
        var channels: [String: String] = [:]
        for index in 0..<30 {
            let name = "burst-\(index).call"
            let channel = "PJSIP/answer/0/\(1200 + 10 * index)"
            channels[name] = channel
            try spool.submit(name, callFile([
                "Channel": channel, "MaxRetries": "\(maxRetries)", "RetryTime": "1", "WaitTime": "30",
                "Application": "Playback", "Data": "x", "Archive": "yes",
            ]))
        }
        let total = channels.count
        // Mid-burst: some files finished, some calls up at the PBX, many files still waiting.
        try await active.waitUntil("a few files archived by the active spoold", timeout: .seconds(60)) {
            spool.doneNames().count >= 6
        }
        let dialledBeforeKill = ami.server.originates.count
        let archivedBeforeKill = spool.doneNames().count
        active.kill()
        let died = ContinuousClock.now
        #expect(archivedBeforeKill < total && dialledBeforeKill > archivedBeforeKill,
                "the kill must land mid-burst with calls in flight: \(archivedBeforeKill) archived, \(dialledBeforeKill) dialled")

        try await standby.waitUntil("the standby to take over", timeout: .seconds(10), every: .milliseconds(10)) {
            standby.log.contains("spoold ready")
        }
        let tookOver = ContinuousClock.now - died
        #expect(tookOver < Duration.seconds(2).scaledDeadline, "the standby took \(tookOver) to take over")
        #expect(standby.log.contains("standby: took over"), "\(standby.tail)")

        try await standby.waitUntil("every file archived", timeout: .seconds(90)) {
            spool.doneNames().filter { $0.hasSuffix(".call") }.count >= total && spool.outgoingNames().allSatisfy { $0.hasPrefix(".") }
        }
        // Archived exactly once: an archive under the same name would have kept the older one under
        // another name, so the directory holds exactly the names submitted.
        #expect(Set(spool.doneNames()) == Set(channels.keys), "outgoing_done: \(spool.doneNames())")
        for (name, channel) in channels.sorted(by: { $0.key < $1.key }) {
            let file = try #require(spool.archived(name), "\(name) has no Status line")
            // Completed; or, for a call that was in flight at the kill and had ended by the takeover (so it
            // could not be adopted), an aborted attempt that used up the file's only one.
            #expect(file.status == "Completed" || (file.status == "Expired" && file.tags.contains("AbortRetry")),
                    "\(name):\n\(file.text)")
            let dialled = ami.originates(channel: channel).count
            #expect((1...(maxRetries + 1)).contains(dialled), "\(name) was dialled \(dialled) times; it allows \(maxRetries + 1)")
        }
        #expect(ami.server.originates.count > dialledBeforeKill, "the standby dialled nothing")
        #expect(try await standby.terminate() == 0)
    }

    @Test("SIGTERM to a waiting standby: it exits 0 without touching the spool, and the active spoold goes on")
    func standbyStopsCleanly() async throws {
        let spool = try TemporarySpool()
        let active = try await SpooldProcess.started(spool: spool)
        defer { active.kill() }
        let standby = try SpooldProcess(spool: spool, arguments: ["--standby"])
        try await standby.waitForLog("standby: spool held by pid \(active.pid) on \(thisHostName())")
        #expect(try await standby.terminate() == 0)
        #expect(!standby.log.contains("spoold ready"), "\(standby.tail)")
        try spool.submit("after.call", callFile(["Channel": "Sim/answer", "Application": "Playback", "Data": "x", "Archive": "yes"]))
        _ = try await spool.waitForArchive("after.call", by: active)
        #expect(try await active.terminate() == 0)
    }
}
