import CallFile
import Testing
@testable import Spooler

/// `AttemptEnd`: what the end of an attempt means, outcome and file in → decision, lines and events out.
@Suite("The end of an attempt")
struct AttemptEndTests {
    typealias Action = SpoolStateMachine.Action
    static let t0 = SpoolInstant(seconds: 1_795_364_000)
    static let ended = t0.adding(seconds: 45)
    static let dialled = FileID(device: 1, inode: 7)

    static func file(maxRetries: Int = 2) -> CallFile {
        CallFileParser.parse(Array("Channel: Sim/busy\nApplication: Wait\nRetryTime: 30\nMaxRetries: \(maxRetries)\n".utf8),
                             path: "a.call").file
    }

    static func attempt(number: Int = 1, maxRetries: Int = 2, cancelled: Bool = false) -> CallAttempt {
        CallAttempt(file: file(maxRetries: maxRetries), number: number, channelId: "id-\(number)", lengthBefore: 120,
                    mtimeBefore: t0.adding(seconds: -5), ownMtime: t0.adding(seconds: 60), fileID: dialled, started: t0,
                    token: 3, cancelled: cancelled)
    }

    static func info(_ id: FileID = dialled, mtime: SpoolInstant = t0.adding(seconds: 60)) -> EntryInfo {
        EntryInfo(kind: .regular, mtime: mtime, size: 160, uid: 0, mode: 0o644, fileID: id)
    }

    static let busyNever = CallingRules(retryRules: [RetryRule(pattern: ChannelPattern("Sim/*"), busy: .never)])
    static let busyAfter5 = CallingRules(retryRules: [RetryRule(pattern: ChannelPattern("Sim/*"), busy: .after(seconds: 5))])

    static func decide(_ attempt: CallAttempt, _ outcome: CallAttempt.Outcome, info: EntryInfo? = info(),
                       rules: CallingRules = CallingRules(), finishAtAnswer: Bool = false) -> AttemptEnd.Decision {
        AttemptEnd(name: "a.call", attempt: attempt, outcome: outcome, ended: ended)
            .decide(info: info, finishAtAnswer: finishAtAnswer, rules: rules, pid: 77)
    }

    static func endRecord(_ number: Int, due: SpoolInstant) -> Action {
        .appendRecord("a.call", RetryRecord(kind: .end, pid: 77, number: number, epoch: ended.seconds, line: nil).bytes,
                      atime: due, mtime: due, statAfter: false)
    }

    static let busy = CallAttempt.Outcome.failed(reason: 5, text: "busy")
    static let of1 = "attempt 1 of 3 on Sim/busy"

    @Test("Outcome, attempts left and retry rules in → the decision out", arguments: [
        // Answered: Completed, by the file's own options, with the lstat (AlwaysDelete: no may keep it).
        (attempt(), CallAttempt.Outcome.completed, CallingRules(), false,
         AttemptEnd.Decision.finish([.log(.notice, "[a.call] \(of1): answered and hung up")],
                                    FinishPlan(.completed, "Completed on attempt 1 of 3", file(), ownMtime: t0.adding(seconds: 60)),
                                    info: info())),
        (attempt(), .completed, CallingRules(), true,
         .finish([.log(.notice, "[a.call] \(of1): answered")],
                 FinishPlan(.completed, "Completed on attempt 1 of 3", file(), ownMtime: t0.adding(seconds: 60)), info: info())),
        // Refused by the PBX: Failed, never retried.
        (attempt(), .rejected("no such extension"), CallingRules(), false,
         .finish([.log(.error, "[a.call] \(of1): refused by the PBX: no such extension; not retried")],
                 FinishPlan(.failed, "Failed (no such extension)", file(), ownMtime: t0.adding(seconds: 60)), info: info())),
        // Never reached the PBX: the StartRetry comes back out, to the length and mtime before it.
        (attempt(), .notPlaced("no connection"), CallingRules(), false,
         .takeBack([.log(.warning, "[a.call] \(of1): not placed (no connection); nothing counted, the file waits for the backend"),
                    .truncate("a.call", length: 120, mtime: t0.adding(seconds: -5))])),
        // Failed with attempts left: the EndRetry record, its times the next due time (RetryTime, or the rule's).
        (attempt(), busy, CallingRules(), false, .writeEnd(endRecord(1, due: ended.adding(seconds: 30)))),
        (attempt(), busy, busyAfter5, false, .writeEnd(endRecord(1, due: ended.adding(seconds: 5)))),
        // The last attempt, or a rule that says never: Expired at once.
        (attempt(number: 3), busy, CallingRules(), false,
         .finish([.log(.notice, "[a.call] attempt 3 of 3 on Sim/busy: failed, reason 5 (busy); no attempts left")],
                 FinishPlan(.expired, "Expired after 3 attempts", file(), ownMtime: t0.adding(seconds: 60)), info: info())),
        (attempt(), busy, busyNever, false,
         .finish([.log(.notice, "[a.call] \(of1): failed, reason 5 (busy); [retry:Sim/*] busy = never: no more attempts")],
                 FinishPlan(.expired, "Expired after 1 attempts ([retry:Sim/*] busy = never)", file(), ownMtime: t0.adding(seconds: 60)),
                 info: info())),
        // Hung up by spoold cancel: Cancelled whatever the outcome, by the file's options, no lstat needed.
        (attempt(cancelled: true), .completed, CallingRules(), false,
         .finish([.log(.notice, "[a.call] \(of1): ended after spoold cancel hung it up")],
                 FinishPlan(.cancelled, "Cancelled during attempt 1 of 3", file()), info: nil)),
        (attempt(cancelled: true), busy, CallingRules(), false,
         .finish([.log(.notice, "[a.call] \(of1): ended after spoold cancel hung it up")],
                 FinishPlan(.cancelled, "Cancelled during attempt 1 of 3", file()), info: nil)),
    ] as [(CallAttempt, CallAttempt.Outcome, CallingRules, Bool, AttemptEnd.Decision)])
    func decisions(attempt: CallAttempt, outcome: CallAttempt.Outcome, rules: CallingRules, finishAtAnswer: Bool,
                   expected: AttemptEnd.Decision) {
        #expect(Self.decide(attempt, outcome, rules: rules, finishAtAnswer: finishAtAnswer) == expected)
    }

    @Test("Another file at the name: the result goes into no file, whatever the outcome (cancelled too)", arguments: [
        (attempt(), CallAttempt.Outcome.completed, "answered"),
        (attempt(), busy, "failed, reason 5 (busy)"),
        (attempt(cancelled: true), .notPlaced("x"), "not placed (x)"),
    ])
    func replaced(attempt: CallAttempt, outcome: CallAttempt.Outcome, worded: String) {
        #expect(Self.decide(attempt, outcome, info: Self.info(FileID(device: 1, inode: 8))) == .replaced([
            .log(.warning, "[a.call] \(Self.of1): \(worded); the file was replaced while its call was in flight, so this result goes into no file and the new file is a new call, due at its own mtime"),
            .emit(.replacedInFlight(file: "a.call"))]))
        // Gone altogether: not a replacement (the finish finds out).
        if case .replaced = Self.decide(attempt, .completed, info: nil) { Issue.record("a gone file is no replacement") }
    }

    static func end(_ number: Int = 1) -> AttemptEnd {
        AttemptEnd(name: "a.call", attempt: attempt(number: number), outcome: busy, ended: ended)
    }

    static let appended = SpoolStateMachine.Appended(lengthBefore: 120, fileID: dialled, timesFailure: nil, infoAfter: nil)
    static func failure(_ code: Int32, _ text: String) -> SpoolStateMachine.StepFailure {
        .init(code: code, text: text, infoAfter: nil)
    }

    @Test("The EndRetry record's result → the next attempt scheduled, or the file forgotten")
    func recorded() {
        let due = Self.ended.adding(seconds: 30)
        let next: [Action] = [.log(.notice, "[a.call] \(Self.of1): failed, reason 5 (busy); next attempt at \(due.timeOfDay)"),
                              .emit(.retryScheduled(file: "a.call", attempt: 1, reason: 5, nextDue: due))]
        #expect(Self.end().recorded(.success(Self.appended), rules: CallingRules()) == .retry(next, due: due))
        // Not written: the count is kept in memory and the retry goes on all the same.
        #expect(Self.end().recorded(.failure(Self.failure(28, "No space left on device")), rules: CallingRules())
            == .retry([.log(.error, "[a.call] cannot write the EndRetry record: No space left on device; spoold keeps the count (1 attempts) in memory")] + next,
                      due: due))
        // A rule's delay is named in the line.
        let ruled = Self.ended.adding(seconds: 5)
        #expect(Self.end().recorded(.success(Self.appended), rules: Self.busyAfter5) == .retry([
            .log(.notice, "[a.call] \(Self.of1): failed, reason 5 (busy); next attempt at \(ruled.timeOfDay) ([retry:Sim/*] busy = 5 s)"),
            .emit(.retryScheduled(file: "a.call", attempt: 1, reason: 5, nextDue: ruled))], due: ruled))
        // Removed meanwhile: nothing more is done.
        #expect(Self.end().recorded(.failure(Self.failure(2, "No such file or directory")), rules: CallingRules())
            == .gone(.log(.notice, "[a.call] \(Self.of1): failed, reason 5 (busy); the file was removed meanwhile, so nothing more is done")))
        // Only a failed attempt writes an EndRetry: any other outcome schedules nothing.
        let completed = AttemptEnd(name: "a.call", attempt: Self.attempt(), outcome: .completed, ended: Self.ended)
        #expect(completed.recorded(.success(Self.appended), rules: CallingRules()) == .retry([], due: nil))
    }

    @Test("A StartRetry taken back: the notPlaced event, after the reason it could not be")
    func takenBack() {
        let end = AttemptEnd(name: "a.call", attempt: Self.attempt(), outcome: .notPlaced("x"), ended: Self.ended)
        #expect(end.takenBack(nil) == [.emit(.notPlaced(file: "a.call"))])
        #expect(end.takenBack(Self.failure(30, "Read-only file system")) == [
            .log(.error, "[a.call] cannot take back the StartRetry record: Read-only file system; the attempt will count as aborted"),
            .emit(.notPlaced(file: "a.call"))])
    }
}
