import CallFile
import Testing
@testable import Spooler

/// `InterruptedAttempt`: the check of an attempt a stop or crash left in flight, answers in → next step out.
@Suite("An interrupted attempt")
struct InterruptedAttemptTests {
    static let now = SpoolInstant(seconds: 1_795_364_000)
    static let file = CallFileParser.parse(Array("""
        Channel: Sim/answer
        Application: Wait
        MaxRetries: 2
        RetryTime: 20
        StartRetry: 4242 1 (1795363900)

        """.utf8), path: "r.call").file

    func interrupted() throws -> InterruptedAttempt {
        InterruptedAttempt(name: "r.call", file: Self.file, start: try #require(Self.file.inFlightStart))
    }

    @Test("The record alone gives the ChannelId and the start time (its epoch less RetryTime); the pid is not consulted")
    func fromTheRecord() throws {
        let attempt = try interrupted()
        #expect(attempt.channelId == ChannelID.make(fileName: "r.call", startEpoch: 1_795_363_900, attempt: 1))
        #expect(attempt.started == SpoolInstant(seconds: 1_795_363_880))
        #expect(attempt.abortDue == nil)
    }

    @Test("The backend's answer → the next step", arguments: [
        (Bool?.none, 1, InterruptedAttempt.Next.askAgain),
        (true, 1, .adopt),
        (false, 1, .writeAbort(number: 2, due: InterruptedAttemptTests.now.adding(seconds: 20))),
        (false, 2, .writeAbort(number: 3, due: InterruptedAttemptTests.now.adding(seconds: 20))),
    ])
    func answers(exists: Bool?, made: Int, next: InterruptedAttempt.Next) throws {
        var attempt = try interrupted()
        let answered = attempt.answer(exists, made: made, now: Self.now)
        #expect(answered == next)
        #expect(attempt.abortedLast == (made + 1 > 2 && exists == false))
    }

    @Test("Once the AbortRetry is under way, a late answer changes nothing")
    func lateAnswer() throws {
        var attempt = try interrupted()
        let first = attempt.answer(false, made: 1, now: Self.now)
        #expect(first == .writeAbort(number: 2, due: Self.now.adding(seconds: 20)))
        for exists in [nil, true, false] as [Bool?] {
            let late = attempt.answer(exists, made: 1, now: Self.now.adding(seconds: 1))
            #expect(late == nil)
        }
        #expect(attempt.abortNumber == 2 && attempt.abortDue == Self.now.adding(seconds: 20))
    }

    @Test("An adopted call is followed as the attempt the record names, from the start the record gives")
    func adopted() throws {
        let info = EntryInfo(kind: .regular, mtime: Self.now.adding(seconds: 20), size: 80, uid: 0, mode: 0o644,
                             fileID: FileID(device: 1, inode: 3))
        let attempt = try interrupted().adopted(info: info, now: Self.now, token: 5)
        #expect(attempt.number == 1 && attempt.token == 5 && attempt.started == SpoolInstant(seconds: 1_795_363_880))
        #expect(attempt.channelId == (try interrupted()).channelId)
        #expect(attempt.mtimeBefore == info.mtime && attempt.ownMtime == info.mtime && attempt.fileID == info.fileID)
        let unseen = try interrupted().adopted(info: nil, now: Self.now, token: 6)
        #expect(unseen.ownMtime == Self.now && unseen.fileID == nil)
    }

    typealias Action = SpoolStateMachine.Action
    static let abortDue = now.adding(seconds: 20)

    @Test("Each answer → what is carried out: a line, the lstat that adopts, or the AbortRetry with the next due time as its times")
    func actionsAfterAnswers() throws {
        let attempt = try interrupted()
        let id = attempt.channelId
        #expect(attempt.actions(after: .askAgain, now: Self.now, pid: 9) == [
            .log(.warning, "[r.call] attempt 1 was in flight at the last stop; the backend cannot say yet whether its call (ChannelId \(id)) is up, asking again shortly")])
        #expect(attempt.actions(after: .adopt, now: Self.now, pid: 9) == [
            .log(.notice, "[r.call] attempt 1 was in flight at the last stop and its call is still up (ChannelId \(id)): following it to its hangup"),
            .stat("r.call")])
        #expect(attempt.actions(after: .writeAbort(number: 2, due: Self.abortDue), now: Self.now, pid: 9) == [
            .appendRecord("r.call", RetryRecord(kind: .abort, pid: 9, number: 2, epoch: Self.now.seconds, line: nil).bytes,
                          atime: Self.abortDue, mtime: Self.abortDue, statAfter: true)])
    }

    static let after = EntryInfo(kind: .regular, mtime: abortDue, size: 120, uid: 0, mode: 0o644, fileID: FileID(device: 1, inode: 3))

    func aborted(made: Int) throws -> InterruptedAttempt {
        var attempt = try interrupted()
        _ = attempt.answer(false, made: made, now: Self.now)
        return attempt
    }

    @Test("The AbortRetry's result → counted, then retried or Expired; a removed file is gone; no AbortRetry, nothing")
    func counted() throws {
        let written = Result<SpoolStateMachine.Appended, SpoolStateMachine.StepFailure>.success(
            .init(lengthBefore: 80, fileID: Self.after.fileID, timesFailure: nil, infoAfter: Self.after))
        #expect(try interrupted().counted(written, emitsEvents: true, now: Self.now) == nil)

        let second = try aborted(made: 1)
        let ended = Action.emit(.attemptEnded(AttemptReport(file: "r.call", attempt: 2, channelId: second.channelId, channel: "Sim/answer",
                                                           started: second.started, ended: Self.now, result: .aborted)))
        let cut = "[r.call] attempt 2 of 3 was cut short by the last stop (its call is gone);"
        #expect(second.counted(written, emitsEvents: true, now: Self.now)
            == .retry([ended, .log(.notice, "\(cut) counted as aborted, next attempt at \(Self.abortDue.timeOfDay)")], due: Self.abortDue))
        #expect(second.counted(written, emitsEvents: false, now: Self.now)
            == .retry([.log(.notice, "\(cut) counted as aborted, next attempt at \(Self.abortDue.timeOfDay)")], due: Self.abortDue))
        let full = SpoolStateMachine.StepFailure(code: 28, text: "No space left on device", infoAfter: Self.after)
        #expect(second.counted(.failure(full), emitsEvents: false, now: Self.now) == .retry([
            .log(.error, "[r.call] cannot write the AbortRetry record: No space left on device; spoold keeps the count in memory"),
            .log(.notice, "\(cut) counted as aborted, next attempt at \(Self.abortDue.timeOfDay)")], due: Self.abortDue))
        let removed = SpoolStateMachine.StepFailure(code: 2, text: "No such file or directory", infoAfter: nil)
        #expect(second.counted(.failure(removed), emitsEvents: true, now: Self.now) == .gone)

        // The third of three: Expired, finished by the file's options with the lstat after the record.
        let last = try aborted(made: 2)
        #expect(last.counted(written, emitsEvents: false, now: Self.now) == .expired(
            [.log(.notice, "[r.call] attempt 3 of 3 was cut short by the last stop (its call is gone); no attempts left")],
            FinishPlan(.expired, "Expired after 3 attempts", Self.file), info: Self.after))
    }
}
