import CallFile

/// The steps that take a finished file out of outgoing/ (contract §2.3, §2.6, docs/engine.md "Finishing"):
/// from `FinishPlan`'s first step (kept for reuse, the Status line, the delete, or the move of a file that holds
/// its Status line), each step's result says the next: the move into outgoing_done handed off the loop, the file
/// gone (one line and one event say how), a step that failed tried again later (never dialled again), or the new
/// file that took the name meanwhile, a new call. A file kept for reuse (AlwaysDelete: no) has spoold's records
/// taken out and is due again at its new mtime as a fresh call. A symlink is never followed: its archive is a new
/// file naming the target.
///
/// A sub-machine of the core's, pure (the time and the retry delay come in as arguments), so that each step's
/// result is tested on its own (`FinishStepsTests`); the core applies each `Next` to its states and schedule.
enum FinishSteps {
    typealias Action = SpoolStateMachine.Action
    typealias FileState = SpoolStateMachine.FileState
    typealias StepFailure = SpoolStateMachine.StepFailure

    /// What follows a step.
    enum Next: Equatable {
        /// The name goes into this state while this step is carried out.
        case step(FileState, Action)
        /// The file has left outgoing/ (or was gone already): these lines, then the name is `left` so.
        case left([Action], Leave)
        /// These lines; the name waits in the schedule in this state until then (a step to retry).
        case later(FileState, at: SpoolInstant, [Action])
        /// Kept for reuse: these lines; the file is due at `due` as a fresh call (no attempt remembered).
        case reuse(due: SpoolInstant, [Action])
    }

    /// How the name is left once its file is out of outgoing/.
    enum Leave: Equatable {
        /// Until the watcher reports the removal, its changes are spoold's own.
        case departed
        /// The watcher reported the removal already: the entry goes.
        case dropped
        /// Gone: the entry goes and observability is told.
        case forgotten
        /// A new file of this name came in meanwhile (its watcher event was ignored as busy): a new call.
        case newCall
    }

    /// The plan's first step. `info`: the file's lstat (needed only when it is not marked and AlwaysDelete is off).
    static func first(_ name: String, _ plan: FinishPlan, info: EntryInfo?, now: SpoolInstant) -> Next {
        let step = plan.firstStep(info: info, now: now)
        switch step {
        case .keep(let due):
            // The dialplan moved the mtime: the file is due again then as a fresh call, so spoold's records
            // come out of it (no DelayedRetry growth, no stale counts).
            return .step(.keeping(due: due, summary: plan.summary), .read(name, forAppend: false))
        case .move(let file): return handOver(name, plan, file)
        case .mark, .delete:
            // Step 1 here, where the attempt ended: from the Status line on, the file is finished.
            return .step(.finishing(plan), step == .mark ? .markFinished(name, plan.status) : .delete(name))
        }
    }

    /// Archive step 2 runs off the loop while other files go on; the name is busy until its result.
    static func handOver(_ name: String, _ plan: FinishPlan, _ file: FileID) -> Next {
        .step(.moving(plan, reappeared: false, removed: false), .moveMarked(name, file))
    }

    /// The Status line is written into `file` (nil: it could not be, so the file is moved as it is).
    static func marked(_ name: String, _ plan: FinishPlan, _ file: FileID?) -> Next {
        var plan = plan
        guard let file else { return .step(.finishing(plan), .moveUnmarked(name)) }
        plan.marked = file
        return handOver(name, plan, file)
    }

    /// A file a stop caught between its Status line and its move into outgoing_done: finished already.
    static func alreadyFinished(_ name: String, status: CallStatus, file: FileID) -> (Action, FinishPlan) {
        (.log(.notice, "[\(name)] already finished: its Status: \(status.rawValue) line follows its last attempt (a stop came between the Status line and the archive, or the file was copied back from outgoing_done); archiving it, not dialled. To dial such a file again, remove its Status line"),
         FinishPlan(status: status, summary: "\(status.rawValue) before the last stop", rule: .moveAside, marked: file))
    }

    /// A finish step to retry is due: the file is looked at again (`info`); one that holds its Status line is
    /// moved as the very file found now, and is forgotten when gone.
    static func retryDue(_ name: String, _ plan: FinishPlan, marked: Bool, info: EntryInfo?, now: SpoolInstant) -> Next {
        var plan = plan
        if marked {
            guard let info else { return .left([], .forgotten) }
            plan.marked = info.fileID
        }
        return first(name, plan, info: info, now: now)
    }

    /// The file has left outgoing/ by whichever step: one log line and one event say how.
    static func finished(_ name: String, _ plan: FinishPlan, _ disposition: EngineEvent.Disposition, _ how: String) -> [Action] {
        [.log(.notice, "[\(name)] finished: \(plan.summary); \(how)"),
         .emit(.finished(file: name, status: plan.status, disposition: disposition, summary: plan.summary))]
    }

    /// The archive mover's result: the name in outgoing_done, or nil when the name no longer held the file.
    static func archived(_ name: String, _ plan: FinishPlan, reappeared: Bool, removed: Bool,
                         _ result: Result<String?, StepFailure>, retryAt: SpoolInstant) -> Next {
        switch result {
        case .success(let archived?):
            let lines = finished(name, plan, .archived(archived), "archived to outgoing_done/\(archived)")
            return .left(lines, reappeared ? .newCall : removed ? .dropped : .departed)
        case .success(nil):
            // Removed, or replaced by rename, after its Status line: the new file is a new call.
            return .left([.log(.warning, "[\(name)] finished: \(plan.summary), but the file was removed or replaced before it could be archived; this result goes into no file"),
                          .emit(.replacedInFlight(file: name))], .newCall)
        case .failure(let failure):
            // Marked already, so never dialled again (here, or after a restart): moved when the step is retried.
            return retry(name, plan.retried(rule: .moveAside), marked: true,
                         "move it into outgoing_done: \(failure); it stays in outgoing/ with its Status line (never dialled again)", at: retryAt)
        }
    }

    /// The file whose Status line could not be written, moved as it is.
    static func movedUnmarked(_ name: String, _ plan: FinishPlan, _ result: Result<String, StepFailure>, retryAt: SpoolInstant) -> Next {
        switch result {
        case .success(let archived):
            return .left(finished(name, plan, .archived(archived), "its Status line cannot be written, so it was moved to outgoing_done/\(archived)"),
                         .departed)
        case .failure(let failure): return failed(name, plan, failure, retryAt: retryAt)
        }
    }

    static func deleted(_ name: String, _ plan: FinishPlan, _ failure: StepFailure?, retryAt: SpoolInstant) -> Next {
        if let failure { return failed(name, plan, failure, retryAt: retryAt) }
        return .left(finished(name, plan, .deleted, "deleted"), .departed)
    }

    /// The file stays in outgoing/, never dialled again by this spoold; the step is tried again later.
    static func failed(_ name: String, _ plan: FinishPlan, _ failure: StepFailure, retryAt: SpoolInstant) -> Next {
        if failure.isGone {
            return .left([.log(.notice, "[\(name)] finished: \(plan.summary); the file was already removed by someone else")], .forgotten)
        }
        return retry(name, plan.retried(), marked: plan.marked != nil,
                     "\(plan.step) it: \(failure); it stays in outgoing/ (never dialled again by this spoold)", at: retryAt)
    }

    /// A finishing step failed: it waits in the schedule to be tried again (`finishRetry`), never dialled.
    static func retry(_ name: String, _ plan: FinishPlan, marked: Bool, _ why: String, at retryAt: SpoolInstant) -> Next {
        .later(.finishRetry(plan, marked: marked), at: retryAt,
               [.reopenDoneDirectory,
                .log(.error, "[\(name)] finished: \(plan.summary), but cannot \(why), trying again at \(retryAt.timeOfDay)"),
                .emit(.stepFailed(file: name, step: plan.step))])
    }

    /// A symlink is never followed: its archive is a new file naming the target; the link is removed.
    static func symlinkArchived(_ name: String, _ result: Result<String, StepFailure>, retryAt: SpoolInstant) -> Next {
        switch result {
        case .success(let archived):
            return .left([.log(.error, "[\(name)] refused: a symlink is never followed; finished: Failed (symlink); recorded in outgoing_done/\(archived) and the link removed"),
                          .emit(.finished(file: name, status: .failed, disposition: .archived(archived), summary: "Failed (symlink)"))],
                         .dropped)
        case .failure(let failure):
            if failure.isGone { return .left([], .forgotten) }
            return .later(.scheduled, at: retryAt,
                          [.log(.error, "[\(name)] refused: a symlink is never followed, and it cannot be moved aside: \(failure); trying again later")])
        }
    }

    /// AlwaysDelete: no reuse: spoold's record lines (and the blank line before each) come out. `path`: the
    /// file's, for the parser's messages.
    static func strip(_ name: String, _ result: SpoolStateMachine.ReadResult, path: String, due: SpoolInstant, summary: String) -> Next {
        guard case .read(let bytes, let info) = result else {
            return kept(name, due: due, summary: summary, failure: "read: Input/output error (errno 5)")
        }
        guard let stripped = CallFileParser.strippingRecords(bytes, path: path) else {
            return kept(name, due: due, summary: summary, failure: nil)
        }
        return .step(.keeping(due: due, summary: summary), .rewrite(name, stripped, mode: info.mode, mtime: due))
    }

    /// The kept file is due again at `due` as a fresh call; `failure`: why its records stay in it.
    static func kept(_ name: String, due: SpoolInstant, summary: String, failure: String?) -> Next {
        .reuse(due: due, (failure.map { [.log(.error, "[\(name)] cannot take spoold's records out of the reused file: \($0); they stay")] } ?? [])
            + [.log(.notice, "[\(name)] finished: \(summary); kept (AlwaysDelete: no, and its mtime was moved to \(due.timeOfDay)): due again then as a fresh call"),
               .emit(.keptForReuse(file: name, due: due))])
    }
}
