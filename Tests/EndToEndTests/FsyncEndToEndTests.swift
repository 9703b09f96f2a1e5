import Foundation
import TestSupport
import Testing

/// The `fsync` setting (contract §5) on a real spoold: taken from the flag and the file, and a spoold that
/// syncs every record and rename still finishes calls exactly as one that does not.
@Suite("fsync setting end to end")
struct FsyncEndToEndTests {
    @Test("spoold --fsync: an answered call and a retried busy one archive with Asterisk's records and Status")
    func callsArchiveNormally() async throws {
        let spool = try TemporarySpool()
        let answer = callFile(["Channel": "Sim/answer", "Application": "Playback", "Data": "x", "Archive": "yes"])
        let busy = callFile(["Channel": "Sim/busy", "MaxRetries": "1", "RetryTime": "1", "Application": "Playback",
                             "Data": "x", "Archive": "yes"])
        try await withSpoold(spool: spool, arguments: ["--fsync"]) { spoold in
            try await spoold.waitForLog("fsync = yes")
            try spool.submit("answer.call", answer)
            try spool.submit("busy.call", busy)
            let answered = try await spool.waitForArchive("answer.call", by: spoold)
            #expect(answered.status == "Completed")
            #expect(answered.tags == ["StartRetry"])
            #expect(answered.recordsAreWellFormed(after: answer), "archived bytes:\n\(answered.text)")
            let expired = try await spool.waitForArchive("busy.call", by: spoold)
            #expect(expired.status == "Expired")
            #expect(expired.tags == ["StartRetry", "EndRetry", "StartRetry"])
            #expect(expired.recordsAreWellFormed(after: busy), "archived bytes:\n\(expired.text)")
            #expect(!spool.isInOutgoing("answer.call") && !spool.isInOutgoing("busy.call"))
            #expect(!spoold.log.contains("fsync:"), "no sync failed:\n\(spoold.log)")
        }
    }

    @Test("fsync = yes in the file, --no-fsync over it; --check-config shows the value in force")
    func checkConfigShowsIt() async throws {
        let spool = try TemporarySpool()
        let path = spool.root + "/spoold.conf"
        try FileSystem.write(Array("[general]\nbackend = simulate\nfsync = yes\n".utf8), to: path, mode: 0o644)
        let on = try await ToolRun.run(BuiltProducts.spoold, ["run", "--config", path, "--check-config"])
        #expect(on.status == 0, "\(on)")
        #expect(on.stdout.contains("fsync yes"), "\(on)")
        let off = try await ToolRun.run(BuiltProducts.spoold, ["run", "--config", path, "--no-fsync", "--check-config"])
        #expect(off.stdout.contains("fsync no"), "\(off)")
        try FileSystem.write(Array("[general]\nbackend = simulate\nfsync = maybe\n".utf8), to: path + ".bad", mode: 0o644)
        let bad = try await ToolRun.run(BuiltProducts.spoold, ["run", "--config", path + ".bad", "--check-config"])
        #expect(bad.status == 1, "\(bad)")
        #expect(bad.stderr.contains("\(path).bad:3: fsync:"), "\(bad)")
    }
}
