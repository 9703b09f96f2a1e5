import CallFile
import Testing
@testable import Spooler

/// `FinishSteps`: a finished file's way out of outgoing/, each step's result in → the next step out.
@Suite("Finishing a file: the steps")
struct FinishStepsTests {
    typealias Next = FinishSteps.Next
    typealias StepFailure = SpoolStateMachine.StepFailure
    static let now = SpoolInstant(seconds: 1_795_364_000)
    static let retryAt = now.adding(seconds: 10)
    static let id = FileID(device: 1, inode: 42)

    static func plan(archive: Bool = true, alwaysDelete: Bool = true, marked: FileID? = nil) -> FinishPlan {
        FinishPlan(status: .completed, summary: "Completed on attempt 1 of 1", rule: .init(archive: archive, alwaysDelete: alwaysDelete),
                   marked: marked)
    }

    static func info(_ mtime: SpoolInstant, id: FileID = FileID(device: 1, inode: 7)) -> EntryInfo {
        EntryInfo(kind: .regular, mtime: mtime, size: 40, uid: 0, mode: 0o640, fileID: id)
    }

    static let gone = StepFailure(code: 2, text: "No such file or directory", infoAfter: nil)
    static let refused = StepFailure(code: 13, text: "Permission denied", infoAfter: info(now))

    static func finished(_ disposition: EngineEvent.Disposition, _ how: String, plan: FinishPlan = plan()) -> [SpoolStateMachine.Action] {
        [.log(.notice, "[f] finished: Completed on attempt 1 of 1; \(how)"),
         .emit(.finished(file: "f", status: .completed, disposition: disposition, summary: "Completed on attempt 1 of 1"))]
    }

    static func retrying(_ plan: FinishPlan, marked: Bool, _ why: String, step: String) -> Next {
        .later(.finishRetry(plan, marked: marked), at: retryAt,
               [.reopenDoneDirectory,
                .log(.error, "[f] finished: Completed on attempt 1 of 1, but cannot \(why), trying again at \(retryAt.timeOfDay)"),
                .emit(.stepFailed(file: "f", step: step))])
    }

    @Test("The first step: the Status line, the delete, the move of a marked file, or the read of a file kept for reuse",
          arguments: [
              (plan(), Optional<EntryInfo>.none, Next.step(.finishing(plan()), .markFinished("f", .completed))),
              (plan(archive: false), nil, .step(.finishing(plan(archive: false)), .delete("f"))),
              (plan(marked: id), nil, .step(.moving(plan(marked: id), reappeared: false, removed: false), .moveMarked("f", id))),
              (plan(alwaysDelete: false), info(now.adding(seconds: 60)),
               .step(.keeping(due: now.adding(seconds: 60), summary: "Completed on attempt 1 of 1"), .read("f", forAppend: false))),
          ])
    func first(plan: FinishPlan, info: EntryInfo?, next: Next) {
        #expect(FinishSteps.first("f", plan, info: info, now: Self.now) == next)
    }

    @Test("Step 1's result: marked, the move is handed off for that very file; no Status line, the file is moved as it is")
    func marked() {
        #expect(FinishSteps.marked("f", Self.plan(), Self.id)
            == .step(.moving(Self.plan(marked: Self.id), reappeared: false, removed: false), .moveMarked("f", Self.id)))
        #expect(FinishSteps.marked("f", Self.plan(), nil) == .step(.finishing(Self.plan()), .moveUnmarked("f")))
    }

    @Test("The mover's result → how the name is left, or the step retried with the file moved aside", arguments: [
        (false, false, Result<String?, StepFailure>.success("f"), Next.left(finished(.archived("f"), "archived to outgoing_done/f"), .departed)),
        (false, true, .success("f"), .left(finished(.archived("f"), "archived to outgoing_done/f"), .dropped)),
        (true, false, .success("f.1"), .left(finished(.archived("f.1"), "archived to outgoing_done/f.1"), .newCall)),
        (false, false, .success(nil),
         .left([.log(.warning, "[f] finished: Completed on attempt 1 of 1, but the file was removed or replaced before it could be archived; this result goes into no file"),
                .emit(.replacedInFlight(file: "f"))], .newCall)),
        (false, false, .failure(refused),
         retrying(FinishPlan(status: .completed, summary: "Completed on attempt 1 of 1", rule: .moveAside), marked: true,
                  "move it into outgoing_done: Permission denied; it stays in outgoing/ with its Status line (never dialled again)",
                  step: "archive")),
    ])
    func archived(reappeared: Bool, removed: Bool, result: Result<String?, StepFailure>, next: Next) {
        #expect(FinishSteps.archived("f", Self.plan(marked: Self.id), reappeared: reappeared, removed: removed, result,
                                     retryAt: Self.retryAt) == next)
    }

    @Test("A delete or an unmarked move: done, the file gone already, or the step retried (never dialled again)")
    func deletedAndMoved() {
        let delete = Self.plan(archive: false)
        #expect(FinishSteps.deleted("f", delete, nil, retryAt: Self.retryAt) == .left(Self.finished(.deleted, "deleted"), .departed))
        #expect(FinishSteps.deleted("f", delete, Self.gone, retryAt: Self.retryAt)
            == .left([.log(.notice, "[f] finished: Completed on attempt 1 of 1; the file was already removed by someone else")], .forgotten))
        #expect(FinishSteps.deleted("f", delete, Self.refused, retryAt: Self.retryAt)
            == Self.retrying(delete, marked: false, "delete it: Permission denied; it stays in outgoing/ (never dialled again by this spoold)",
                             step: "delete"))
        #expect(FinishSteps.movedUnmarked("f", Self.plan(), .success("f"), retryAt: Self.retryAt)
            == .left(Self.finished(.archived("f"), "its Status line cannot be written, so it was moved to outgoing_done/f"), .departed))
        #expect(FinishSteps.movedUnmarked("f", Self.plan(), .failure(Self.refused), retryAt: Self.retryAt)
            == Self.retrying(Self.plan(), marked: false,
                             "archive it: Permission denied; it stays in outgoing/ (never dialled again by this spoold)", step: "archive"))
    }

    @Test("A step to retry, due: a marked file is moved as the very file found now, and forgotten when gone")
    func retryDue() {
        let found = Self.info(Self.now, id: FileID(device: 1, inode: 9))
        #expect(FinishSteps.retryDue("f", Self.plan(), marked: true, info: found, now: Self.now)
            == .step(.moving(Self.plan(marked: found.fileID), reappeared: false, removed: false), .moveMarked("f", found.fileID)))
        #expect(FinishSteps.retryDue("f", Self.plan(), marked: true, info: nil, now: Self.now) == .left([], .forgotten))
        #expect(FinishSteps.retryDue("f", Self.plan(), marked: false, info: nil, now: Self.now)
            == .step(.finishing(Self.plan()), .markFinished("f", .completed)))
    }

    @Test("A symlink's archive: the link removed; gone already; or tried again later")
    func symlink() {
        #expect(FinishSteps.symlinkArchived("f", .success("f"), retryAt: Self.retryAt) == .left([
            .log(.error, "[f] refused: a symlink is never followed; finished: Failed (symlink); recorded in outgoing_done/f and the link removed"),
            .emit(.finished(file: "f", status: .failed, disposition: .archived("f"), summary: "Failed (symlink)"))], .dropped))
        #expect(FinishSteps.symlinkArchived("f", .failure(Self.gone), retryAt: Self.retryAt) == .left([], .forgotten))
        #expect(FinishSteps.symlinkArchived("f", .failure(Self.refused), retryAt: Self.retryAt) == .later(.scheduled, at: Self.retryAt, [
            .log(.error, "[f] refused: a symlink is never followed, and it cannot be moved aside: Permission denied; trying again later")]))
    }

    @Test("Kept for reuse: spoold's records come out, then it is due again as a fresh call; records that stay are said")
    func kept() {
        let due = Self.now.adding(seconds: 600)
        let text = "Channel: Sim/x\nApplication: Wait\n\nStartRetry: 7 1 (1795364030)\nEndRetry: 7 1 (1795364045)\n"
        let read = SpoolStateMachine.ReadResult.read(Array(text.utf8), Self.info(due))
        let reused: [SpoolStateMachine.Action] = [
            .log(.notice, "[f] finished: S; kept (AlwaysDelete: no, and its mtime was moved to \(due.timeOfDay)): due again then as a fresh call"),
            .emit(.keptForReuse(file: "f", due: due))]
        #expect(FinishSteps.strip("f", read, path: "/o/f", due: due, summary: "S")
            == .step(.keeping(due: due, summary: "S"), .rewrite("f", Array("Channel: Sim/x\nApplication: Wait\n".utf8), mode: 0o640, mtime: due)))
        #expect(FinishSteps.strip("f", .gone, path: "/o/f", due: due, summary: "S") == .reuse(due: due, [
            .log(.error, "[f] cannot take spoold's records out of the reused file: read: Input/output error (errno 5); they stay")] + reused))
        #expect(FinishSteps.kept("f", due: due, summary: "S", failure: nil) == .reuse(due: due, reused))
    }
}
