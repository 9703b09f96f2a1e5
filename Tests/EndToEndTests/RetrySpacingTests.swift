import Foundation
import Testing
import TestSupport

/// Contract §1 (records, StartRetry's epoch and mtime) and §2.1 (the next attempt starts RetryTime after the
/// previous attempt *ended*, where Asterisk's inotify build starts it RetryTime after the previous start).
@Suite("Retry spacing and the mtimes the records set")
struct RetrySpacingTests {
    @Test("Attempt n+1 is read at least RetryTime after attempt n ended; mtime is t+2R in flight and end+R after EndRetry")
    func spacingFromTheEndOfTheAttempt() async throws {
        let retryTime = 2
        let spool = try TemporarySpool()
        // Rings 3 s, then busy: Asterisk's inotify build would find attempt 1 still running at start + R (a
        // DelayedRetry) and then start attempt 2 as soon as R after the previous start has passed again.
        let text = callFile([
            "Channel": "Sim/busy/3000", "MaxRetries": "2", "RetryTime": "\(retryTime)",
            "Application": "Playback", "Data": "x", "Archive": "yes",
        ])
        try await withSpoold(spool: spool) { spoold in
            try spool.submit("spacing.call", text)
            let sampler = StateSampler(path: spool.outgoingPath("spacing.call"))
            sampler.start()
            let file: ArchivedCallFile
            do {
                file = try await spool.waitForArchive("spacing.call", by: spoold, timeout: .seconds(60))
            } catch {
                _ = sampler.stop()
                throw error
            }
            // The last stable mtime seen in each state of the file (state = the record tags so far).
            let mtimeInState = sampler.stop()
            #expect(file.status == "Expired")
            #expect(file.tags == ["StartRetry", "EndRetry", "StartRetry", "EndRetry", "StartRetry"])
            #expect(retrySpacingViolations(file.records, retryTime: retryTime) == [])

            // Each attempt ended after its 3 s ring, not before.
            let starts = file.records("StartRetry"), ends = file.records("EndRetry")
            for (start, end) in zip(starts, ends) {
                #expect(end.epoch >= start.epoch - retryTime + 3, "\(start) → \(end) ended before the ring time")
            }

            // While attempt 1 is in flight the mtime is t+2R, i.e. StartRetry's epoch + R.
            let inFlight = try #require(mtimeInState[["StartRetry"]], "never saw attempt 1 in flight; states seen: \(mtimeInState)")
            #expect(abs(Int(inFlight) - (starts[0].epoch + retryTime)) <= 1,
                    "mtime in flight \(inFlight), StartRetry \(starts[0])")
            // After EndRetry the mtime is the end time + R: the next due time.
            let waiting = try #require(mtimeInState[["StartRetry", "EndRetry"]], "never saw the wait after attempt 1")
            #expect(abs(Int(waiting) - (ends[0].epoch + retryTime)) <= 1, "mtime while waiting \(waiting), \(ends[0])")
        }
    }
}
