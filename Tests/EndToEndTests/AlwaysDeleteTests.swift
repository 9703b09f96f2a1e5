import Foundation
import TestSupport
import Testing

/// Contract §2.3: `AlwaysDelete: no` keeps the file only when something other than spoold moved its mtime
/// into the future during the call; the file is then a fresh call at that time, without spoold's records.
@Suite("AlwaysDelete")
struct AlwaysDeleteTests {
    @Test("AlwaysDelete: no with nobody moving the mtime finishes normally, without endless DelayedRetry")
    func keptOnlyWhenRescheduled() async throws {
        let spool = try TemporarySpool()
        let text = callFile([
            "Channel": "Sim/answer/0/2500", "RetryTime": "1", "AlwaysDelete": "no",
            "Application": "Playback", "Data": "x", "Archive": "yes",
        ])
        try await withSpoold(spool: spool) { spoold in
            try spool.submit("keep.call", text)
            // A 2.5 s call with RetryTime 1 outlives StartRetry's t+2R mtime: Asterisk keeps such a file for ever.
            let file = try await spool.waitForArchive("keep.call", by: spoold)
            #expect(file.status == "Completed")
            #expect(file.tags == ["StartRetry"], "archived:\n\(file.text)")
        }
    }

    @Test("AlwaysDelete: no and a dialplan-style reschedule during the call: the file stays, records removed, due again at the new time")
    func rescheduledDuringTheCall() async throws {
        let spool = try TemporarySpool()
        // The test has to see the call in flight and move the mtime past its end: on a slow (sanitized)
        // build both the call and the new due time are further away.
        let callSeconds = 6 * TestTimeScale.factor
        let text = callFile([
            "Channel": "Sim/answer/0/\(Int(callSeconds * 1000))", "RetryTime": "1", "AlwaysDelete": "no",
            "Application": "Playback", "Data": "x", "Archive": "yes",
        ])
        try await withSpoold(spool: spool) { spoold in
            try spool.submit("wakeup.call", text)
            // A 6 s call (plain build) leaves a loaded machine's test executor time to see it in flight.
            try await spoold.waitUntil("the first call to start") {
                spool.recordsInOutgoing("wakeup.call").map(\.tag) == ["StartRetry"]
            }
            // What the dialplan does in sample.call: move the file's mtime into the future during the call.
            let rescheduled = (FileSystem.now() + callSeconds + 4).rounded(.down)
            try FileSystem.setMtime(spool.outgoingPath("wakeup.call"), to: rescheduled)

            // After the call the file is back to its original bytes, with the mtime the dialplan set.
            try await spoold.waitUntil("spoold to strip its records after the call") {
                spool.text(inOutgoing: "wakeup.call") == text
            }
            #expect(FileSystem.mtime(spool.outgoingPath("wakeup.call")) == rescheduled)
            #expect(spool.doneNames().isEmpty)

            // At that time it runs again as a fresh call, and this time nothing moves the mtime.
            let file = try await spool.waitForArchive("wakeup.call", by: spoold)
            #expect(file.status == "Completed")
            #expect(file.tags == ["StartRetry"])
            let start = try #require(file.records.first)
            #expect(start.number == 1)
            #expect(start.epoch - 1 >= Int(rescheduled), "the fresh call ran before the rescheduled time")
        }
    }
}
