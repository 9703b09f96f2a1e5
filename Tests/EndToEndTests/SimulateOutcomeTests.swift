import Foundation
import Testing
import TestSupport

/// Contract §1: the same Status, the same number of attempts and the same records as Asterisk, for every
/// outcome of the simulated PBX.
@Suite("Outcomes with the simulate backend")
struct SimulateOutcomeTests {
    struct Outcome: Sendable, CustomTestStringConvertible {
        let channel: String
        let maxRetries: Int
        let waitTime: Int
        let status: String
        let tags: [String]
        var testDescription: String { "\(channel), MaxRetries \(maxRetries) → \(status)" }
    }

    static let outcomes: [Outcome] = [
        Outcome(channel: "Sim/answer", maxRetries: 2, waitTime: 5, status: "Completed", tags: ["StartRetry"]),
        // Any channel the simulator does not know answers at once.
        Outcome(channel: "Local/100@from-internal", maxRetries: 0, waitTime: 5, status: "Completed", tags: ["StartRetry"]),
        Outcome(channel: "Sim/busy", maxRetries: 2, waitTime: 5, status: "Expired",
                tags: ["StartRetry", "EndRetry", "StartRetry", "EndRetry", "StartRetry"]),
        Outcome(channel: "Sim/congestion", maxRetries: 1, waitTime: 5, status: "Expired",
                tags: ["StartRetry", "EndRetry", "StartRetry"]),
        Outcome(channel: "Sim/noanswer", maxRetries: 1, waitTime: 1, status: "Expired",
                tags: ["StartRetry", "EndRetry", "StartRetry"]),
        Outcome(channel: "Sim/failure", maxRetries: 0, waitTime: 5, status: "Expired", tags: ["StartRetry"]),
    ]

    @Test("Each outcome gives Asterisk's Status and records", arguments: outcomes)
    func outcome(_ outcome: Outcome) async throws {
        let spool = try TemporarySpool()
        let text = callFile([
            "Channel": outcome.channel, "WaitTime": "\(outcome.waitTime)", "MaxRetries": "\(outcome.maxRetries)",
            "RetryTime": "1", "Context": "target", "Extension": "s", "Priority": "1", "Archive": "yes",
        ])
        try await withSpoold(spool: spool) { spoold in
            let submitted = Int(FileSystem.now())
            try spool.submit("call.call", text)
            let file = try await spool.waitForArchive("call.call", by: spoold)
            let finished = Int(FileSystem.now().rounded(.up))

            #expect(file.status == outcome.status)
            #expect(file.tags == outcome.tags)
            #expect(file.recordsAreWellFormed(after: text), "archived bytes:\n\(file.text)")
            #expect(!spool.isInOutgoing("call.call"))
            // Attempt numbers count from 1 and each EndRetry closes the StartRetry before it.
            var attempt = 0
            for record in file.records {
                if record.tag == "StartRetry" { attempt += 1 }
                #expect(record.number == attempt, "\(record)")
                #expect(record.pid == Int(spoold.pid), "\(record) should carry spoold's pid")
            }
            // StartRetry's epoch is the read time plus RetryTime.
            for start in file.records("StartRetry") {
                #expect((submitted...finished).contains(start.epoch - 1), "\(start) read time outside the run")
            }
            #expect(retrySpacingViolations(file.records, retryTime: 1).isEmpty)
            if outcome.channel == "Sim/noanswer", let start = file.records.first, let end = file.records.dropFirst().first {
                // The ring lasted WaitTime before the attempt ended.
                #expect(end.epoch >= start.epoch - 1 + outcome.waitTime, "\(start) → \(end) rang less than WaitTime")
            }
        }
    }

    @Test("Archive: no deletes the finished file, whatever the outcome", arguments: ["Sim/answer", "Sim/busy"])
    func archiveNoDeletes(channel: String) async throws {
        let spool = try TemporarySpool()
        try await withSpoold(spool: spool) { spoold in
            try spool.submit("gone.call", callFile(["Channel": channel, "MaxRetries": "0", "Application": "Playback", "Data": "x"]))
            try await spool.waitForRemoval("gone.call", by: spoold)
            // Archiving is a rename, so an archived file would already be in outgoing_done now.
            #expect(spool.doneNames().isEmpty, "outgoing_done holds \(spool.doneNames())")
        }
    }

    @Test("A file with neither Application nor Extension is Failed without a dial, Status appended as Asterisk does")
    func invalidFileFails() async throws {
        // The contents of the Asterisk 22 transcript callfile_ref-invalid.txt.
        let text = "Channel: Local/s@answer\nWaitTime: 10\nArchive: yes\n"
        let spool = try TemporarySpool()
        try await withSpoold(spool: spool) { spoold in
            try spool.submit("ref-invalid.call", text)
            let file = try await spool.waitForArchive("ref-invalid.call", by: spoold)
            #expect(file.text == text + "Status: Failed\n")
        }
    }

    @Test("Negative MaxRetries expires on first read without a dial")
    func negativeMaxRetriesExpires() async throws {
        let text = callFile(["Channel": "Sim/answer", "MaxRetries": "-1", "Application": "Playback", "Data": "x", "Archive": "yes"])
        let spool = try TemporarySpool()
        try await withSpoold(spool: spool) { spoold in
            try spool.submit("negative.call", text)
            let file = try await spool.waitForArchive("negative.call", by: spoold)
            #expect(file.text == text + "Status: Expired\n")
        }
    }

    @Test("An invalid file without Archive is deleted, never dialled")
    func invalidWithoutArchiveIsDeleted() async throws {
        let spool = try TemporarySpool()
        try await withSpoold(spool: spool) { spoold in
            try spool.submit("bad.call", "Channel: Sim/answer\n")
            try await spool.waitForRemoval("bad.call", by: spoold)
            #expect(spool.doneNames().isEmpty)
        }
    }
}
