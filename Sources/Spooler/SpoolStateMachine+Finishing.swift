import CallFile

/// Finishing (AlwaysDelete, the archive's two steps, delete), hostile files moved aside, live limits, stop.
extension SpoolStateMachine {
    /// Takes the plan's first step (`FinishPlan.firstStep`: AlwaysDelete, then archive or delete). `info` is the
    /// file's lstat (needed only when the file is not marked and AlwaysDelete is off).
    mutating func finish(_ name: String, _ finish: FinishPlan, info: EntryInfo?, now: SpoolInstant) -> [Action] {
        let step = finish.firstStep(info: info, now: now)
        switch step {
        case .keep(let due):
            // The dialplan moved the mtime: the file is due again then as a fresh call, so spoold's records
            // come out of it (no DelayedRetry growth, no stale counts).
            set(name, .keeping(due: due, summary: finish.summary))
            return [.read(name, forAppend: false)]
        case .move(let file): return handOver(name, finish, file)
        case .mark, .delete:
            set(name, .finishing(finish))
            // Step 1 here, where the attempt ended: from the Status line on, the file is finished.
            return [step == .mark ? .markFinished(name, finish.status) : .delete(name)]
        }
    }

    /// Archive step 2 runs off the loop while other files go on; the name is busy until its result.
    mutating func handOver(_ name: String, _ finish: FinishPlan, _ file: FileID) -> [Action] {
        set(name, .moving(finish, reappeared: false, removed: false))
        moving += 1
        return [.moveMarked(name, file)]
    }

    mutating func marked(_ name: String, _ file: FileID?, now: SpoolInstant) -> [Action] {
        guard case .finishing(var finish)? = state(of: name) else { return [] }
        guard let file else { return [.moveUnmarked(name)] }
        finish.marked = file
        return handOver(name, finish, file)
    }

    /// A file a stop caught between its Status line and its move into outgoing_done: finished already.
    mutating func archiveMarked(_ name: String, status: CallStatus, file: FileID, now: SpoolInstant) -> [Action] {
        [.log(.notice, "[\(name)] already finished: its Status: \(status.rawValue) line follows its last attempt (a stop came between the Status line and the archive, or the file was copied back from outgoing_done); archiving it, not dialled. To dial such a file again, remove its Status line")]
            + finish(name, FinishPlan(status: status, summary: "\(status.rawValue) before the last stop", rule: .moveAside, marked: file),
                     info: nil, now: now)
    }

    /// The file has left outgoing/ by whichever step: one log line and one event say how.
    func finished(_ name: String, _ finish: FinishPlan, _ disposition: EngineEvent.Disposition, _ how: String) -> [Action] {
        [.log(.notice, "[\(name)] finished: \(finish.summary); \(how)"),
         .emit(.finished(file: name, status: finish.status, disposition: disposition, summary: finish.summary))]
    }

    mutating func archived(_ name: String, _ result: Result<String?, StepFailure>, now: SpoolInstant) -> [Action] {
        guard case .moving(let finish, let reappeared, let removed)? = state(of: name) else { return [] }
        moving -= 1
        switch result {
        case .success(let archived?):
            let actions = finished(name, finish, .archived(archived), "archived to outgoing_done/\(archived)")
            if !reappeared {
                removed ? drop(name) : depart(name)
                return actions
            }
            return actions + reappearedAfterFinish(name)
        case .success(nil):
            // Removed, or replaced by rename, after its Status line: the new file is a new call.
            return [.log(.warning, "[\(name)] finished: \(finish.summary), but the file was removed or replaced before it could be archived; this result goes into no file"),
                    .emit(.replacedInFlight(file: name))] + reappearedAfterFinish(name)
        case .failure(let failure):
            // Marked already, so never dialled again (here, or after a restart): moved when the step is retried.
            return retryFinish(name, finish.retried(rule: .moveAside), marked: true,
                               "move it into outgoing_done: \(failure); it stays in outgoing/ with its Status line (never dialled again)", now: now)
        }
    }

    /// A new file of this name came in meanwhile (its watcher event was ignored as busy): a new call.
    mutating func reappearedAfterFinish(_ name: String) -> [Action] {
        changeMemos(name) { $0.clearAttemptMemos() }
        set(name, .due)
        return note(name)
    }

    mutating func movedUnmarked(_ name: String, _ result: Result<String, StepFailure>, now: SpoolInstant) -> [Action] {
        guard case .finishing(let finish)? = state(of: name) else { return [] }
        switch result {
        case .success(let archived):
            depart(name)
            return finished(name, finish, .archived(archived), "its Status line cannot be written, so it was moved to outgoing_done/\(archived)")
        case .failure(let failure): return finishFailed(name, finish, failure, now: now)
        }
    }

    mutating func deleted(_ name: String, _ failure: StepFailure?, now: SpoolInstant) -> [Action] {
        guard case .finishing(let finish)? = state(of: name) else { return [] }
        if let failure { return finishFailed(name, finish, failure, now: now) }
        depart(name)
        return finished(name, finish, .deleted, "deleted")
    }

    /// The file stays in outgoing/, never dialled again by this spoold; the step is tried again later.
    mutating func finishFailed(_ name: String, _ finish: FinishPlan, _ failure: StepFailure, now: SpoolInstant) -> [Action] {
        if failure.isGone {
            return [.log(.notice, "[\(name)] finished: \(finish.summary); the file was already removed by someone else")] + forget(name)
        }
        return retryFinish(name, finish.retried(), marked: finish.marked != nil,
                           "\(finish.step) it: \(failure); it stays in outgoing/ (never dialled again by this spoold)", now: now)
    }

    /// A finishing step failed: it waits in the schedule to be tried again (`finishRetry`), never dialled.
    mutating func retryFinish(_ name: String, _ finish: FinishPlan, marked: Bool, _ why: String, now: SpoolInstant) -> [Action] {
        let retryAt = now.adding(settings.stepRetryDelay)
        schedule(name, at: retryAt, as: .finishRetry(finish, marked: marked))
        return [.reopenDoneDirectory,
                .log(.error, "[\(name)] finished: \(finish.summary), but cannot \(why), trying again at \(retryAt.timeOfDay)"),
                .emit(.stepFailed(file: name, step: finish.step))]
    }

    /// A symlink is never followed: its archive is a new file naming the target; the link is removed.
    mutating func symlinkArchived(_ name: String, _ result: Result<String, StepFailure>, now: SpoolInstant) -> [Action] {
        switch result {
        case .success(let archived):
            drop(name)
            return [.log(.error, "[\(name)] refused: a symlink is never followed; finished: Failed (symlink); recorded in outgoing_done/\(archived) and the link removed"),
                    .emit(.finished(file: name, status: .failed, disposition: .archived(archived), summary: "Failed (symlink)"))]
        case .failure(let failure):
            if failure.isGone { return forget(name) }
            schedule(name, at: now.adding(settings.stepRetryDelay))
            return [.log(.error, "[\(name)] refused: a symlink is never followed, and it cannot be moved aside: \(failure); trying again later")]
        }
    }

    /// AlwaysDelete: no reuse: spoold's record lines (and the blank line before each) come out.
    mutating func strip(_ name: String, _ result: ReadResult, due: SpoolInstant, summary: String) -> [Action] {
        guard case .read(let bytes, let info) = result else {
            return kept(name, due: due, summary: summary, failure: "read: Input/output error (errno 5)")
        }
        guard let stripped = CallFileParser.strippingRecords(bytes, path: settings.outgoingPath + "/" + name) else {
            return kept(name, due: due, summary: summary, failure: nil)
        }
        return [.rewrite(name, stripped, mode: info.mode, mtime: due)]
    }

    mutating func rewritten(_ name: String, _ failure: StepFailure?) -> [Action] {
        guard case .keeping(let due, let summary)? = state(of: name) else { return [] }
        return kept(name, due: due, summary: summary, failure: failure?.text)
    }

    mutating func kept(_ name: String, due: SpoolInstant, summary: String, failure: String?) -> [Action] {
        files[name]!.memos.rememberedAttempts = 0
        schedule(name, at: due)
        return (failure.map { [.log(.error, "[\(name)] cannot take spoold's records out of the reused file: \($0); they stay")] } ?? [])
            + [.log(.notice, "[\(name)] finished: \(summary); kept (AlwaysDelete: no, and its mtime was moved to \(due.timeOfDay)): due again then as a fresh call"),
               .emit(.keptForReuse(file: name, due: due))]
    }

    // MARK: - Limits and stop

    /// New global and per-trunk limits and calling rules (a reload). Calls in flight keep their slots; a lower
    /// limit only holds back new calls. Files parked behind a rule that is gone go back to the schedule; files
    /// a window holds are decided again at once under the new rules.
    mutating func apply(_ limits: EngineLimits, now: SpoolInstant) -> [Action] {
        limiter.setLimits(maxConcurrent: limits.maxConcurrent, maxPerSecond: limits.maxCallsPerSecond)
        for parked in trunks.replaceRules(limits.trunks) where state(of: parked.name) == .parked {
            schedule(parked.name, at: parked.due)
        }
        if rules != limits.callingRules {
            rules = limits.callingRules
            for (name, entry) in files { if case .held = entry.state { schedule(name, at: now) } }
        }
        return [.log(.notice, EngineWording.limitsNow(limits))]
    }

    /// No attempt starts from here on; calls in flight may end until `shutdownGrace` has passed.
    mutating func stop(now: SpoolInstant) -> [Action] {
        guard stopDeadline == nil else { return [] }
        stopDeadline = now.adding(settings.shutdownGrace)
        return inFlight == 0 ? [] : [.log(.notice, "stopping: waiting up to \(settings.shutdownGrace) for \(inFlight) calls in flight")]
    }

    /// Waits for the calls in flight (until the deadline), then for the moves already handed off (a few
    /// file steps, so that each is logged), then stops.
    mutating func drain(now: SpoolInstant) -> [Action] {
        if !pastDeadline, inFlight > 0, let deadline = stopDeadline, now < deadline { return [.wait(until: deadline)] }
        pastDeadline = true
        if moving > 0 { return [.wait(until: nil)] }
        stopped = true
        let left: [Action] = inFlight == 0 ? [] : [.log(.warning, "stopping with \(inFlight) calls still in flight; their files keep their StartRetry record and are recovered at the next start (followed if still up, else counted as aborted)")]
        return left + [.log(.notice, "spoold stopped"), .stopped]
    }
}
