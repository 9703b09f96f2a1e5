import CallFile
import Testing
@testable import Spooler

/// `FileMemos`: the per-file facts spoold keeps in memory, as rules in → results out.
@Suite("Per-file memos")
struct FileMemosTests {
    static let t = SpoolInstant(seconds: 1_795_364_000)

    @Test("An mtime is spoold's own (no touch) only when it is the one it cannot set or the one it gave a held file",
          arguments: [
              (FileMemos(), FileMemosTests.t, false),
              (FileMemos(stuckMtime: FileMemosTests.t), FileMemosTests.t, true),
              (FileMemos(stuckMtime: FileMemosTests.t), FileMemosTests.t.adding(seconds: 1), false),
              (FileMemos(heldUntil: FileMemosTests.t), FileMemosTests.t, true),
              (FileMemos(heldUntil: FileMemosTests.t.adding(seconds: 60)), FileMemosTests.t, false),
              (FileMemos(rememberedAttempts: 2), FileMemosTests.t, false),
          ])
    func ownMtime(memos: FileMemos, mtime: SpoolInstant, own: Bool) {
        #expect(memos.isOwn(mtime: mtime) == own)
    }

    @Test("The attempts made are the file's records or more, when spoold kept the count in memory",
          arguments: [(0, 2), (1, 2), (2, 2), (3, 3)])
    func attemptsMade(remembered: Int, made: Int) {
        let file = CallFileParser.parse(Array("""
            Channel: Sim/busy
            Application: Wait
            StartRetry: 1 1 (100)
            EndRetry: 1 1 (110)
            StartRetry: 1 2 (200)
            AbortRetry: 1 2 (210)

            """.utf8), path: "f.call").file
        #expect(FileMemos(rememberedAttempts: remembered).attemptsMade(file) == made)
    }

    @Test("Refused StartRetry records give up at the third in a row, and the count starts again")
    func refusals() {
        var memos = FileMemos()
        #expect(FileMemos.recordWriteRefusalLimit == 3)
        var givenUp: [Bool] = []
        var counts: [Int] = []
        for _ in 0..<4 {
            givenUp.append(memos.recordWriteRefused())
            counts.append(memos.refusedRecordWrites)
            if counts.last == 0 { #expect(!memos.isBoxed) }  // back at the default: no box
        }
        #expect(givenUp == [false, false, true, false])
        #expect(counts == [1, 2, 0, 1])
    }

    @Test("Times that cannot be set are warned about once; the mtime kept is the latest one")
    func stuckTimes() {
        var memos = FileMemos()
        let first = memos.timesRefused(keeping: Self.t)
        let second = memos.timesRefused(keeping: Self.t.adding(seconds: 5))
        #expect(first && !second)
        #expect(memos.stuckMtime == Self.t.adding(seconds: 5))
    }

    @Test("A skipped name is warned about once")
    func skippedOnce() {
        var memos = FileMemos()
        let first = memos.skipped()
        let second = memos.skipped()
        #expect(first && !second && memos.warnedSkipped)
    }

    @Test("A new file under the name forgets everything but the skip warning; an attempt's end forgets its memos")
    func forgetting() {
        let summary = SpoolStateMachine.FileSummary(channel: "Sim/busy", attemptsMade: 1, attemptsAllowed: 3)
        var memos = FileMemos(rememberedAttempts: 2, stuckMtime: Self.t, refusedRecordWrites: 1, heldUntil: Self.t,
                              warnedSkipped: true, summary: summary)
        var ended = memos
        ended.clearAttemptMemos()
        #expect(ended == FileMemos(refusedRecordWrites: 1, warnedSkipped: true, summary: summary))
        var touched = memos
        touched.clearTimeMemos()
        #expect(touched == FileMemos(rememberedAttempts: 2, refusedRecordWrites: 1, warnedSkipped: true, summary: summary))
        memos.newFile()
        #expect(memos == FileMemos(warnedSkipped: true))
        var plain = FileMemos(rememberedAttempts: 1)
        plain.newFile()
        #expect(!plain.isBoxed)
    }
}
