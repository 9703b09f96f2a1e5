import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM (contract §4: graceful drain): no new attempts, calls in flight reach a consistent record
/// within the bounded wait, exit 0.
@Suite("SIGTERM drain")
struct ShutdownTests {
    @Test("A ringing call finishes Completed after SIGTERM; a file due after the signal is not started; exit 0")
    func drainsCallInFlight() async throws {
        let spool = try TemporarySpool()
        // A 12 s call and a grace well beyond it (plain build; SPOOLD_TEST_TIME_SCALE times that on a slow
        // one): on a loaded machine the test may notice the call late,
        // and the SIGTERM must still find it in flight. The dialling line stays in the log (a file's
        // StartRetry is only there while the call lasts, which a starved poll can miss).
        let channel = "Sim/answer/2000/\(callLengthForTheTestToAct(milliseconds: 10000))"
        let ringing = callFile(["Channel": channel, "Application": "Playback", "Data": "x", "Archive": "yes"])
        let late = callFile(["Channel": "Sim/answer", "Application": "Playback", "Data": "x", "Archive": "yes"])
        let grace = callLengthForTheTestToAct(milliseconds: 60_000) / 1000
        let spoold = try await SpooldProcess.started(spool: spool, arguments: ["--shutdown-grace", "\(grace)"])
        try spool.submit("ringing.call", ringing)
        try await spoold.waitForLog("[ringing.call] attempt 1 of 1 on \(channel): dialling")
        spoold.signal(SIGTERM)
        // From this line on the engine's loop has ended: nothing new may start.
        try await spoold.waitForLog("stopping: waiting up to")
        try spool.submit("late.call", late)

        try await spoold.waitForExit(timeout: .seconds(60))
        #expect(spoold.exitCode == 0, "\(spoold.tail)")
        let archived = try #require(spool.archived("ringing.call"), "\(spoold.tail)")
        #expect(archived.status == "Completed")
        #expect(archived.tags == ["StartRetry"], "Completed after one attempt, no AbortRetry")
        #expect(spool.text(inOutgoing: "late.call") == late, "a file that became due during the drain is left untouched")
        #expect(spool.isInOutgoing("ringing.call") == false)
    }

    @Test("--shutdown-grace bounds the wait: a long call is left with its StartRetry for the next start, exit 0")
    func boundedWait() async throws {
        let spool = try TemporarySpool()
        let long = callFile(["Channel": "Sim/answer/200/600000", "Application": "Playback", "Data": "x", "Archive": "yes"])
        let spoold = try await SpooldProcess.started(spool: spool, arguments: ["--shutdown-grace", "1"])
        try spool.submit("long.call", long)
        try await spoold.waitUntil("long.call to be in flight (StartRetry written)") {
            spool.text(inOutgoing: "long.call")?.contains("StartRetry:") == true
        }
        #expect(try await spoold.terminate(timeout: .seconds(30)) == 0, "\(spoold.tail)")
        #expect(spoold.log.contains("stopping with 1 calls still in flight"), "\(spoold.tail)")
        #expect(spool.recordsInOutgoing("long.call").map(\.tag) == ["StartRetry"], "kept for crash recovery at the next start")
        #expect(spool.doneNames().isEmpty)
    }

    @Test("--shutdown-grace refuses a negative number")
    func refusesNegative() async throws {
        let spool = try TemporarySpool()
        let run = try await ToolRun.run(
            BuiltProducts.spoold, ["run", "--spool-dir", spool.root, "--backend", "simulate", "--shutdown-grace=-1"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("--shutdown-grace must be between 0 and 86400 seconds"), "\(run)")
    }
}
