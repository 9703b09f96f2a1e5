import CallFile

/// Finishing (AlwaysDelete, the archive's two steps, delete), hostile files moved aside, live limits, stop.
extension SpoolStateMachine {
    /// Applies the AlwaysDelete rule, then archives or deletes. `info` is the file's lstat (needed only when
    /// the file is not marked and AlwaysDelete is off): a future mtime that is not spoold's own keeps it.
    mutating func finish(_ name: String, _ finish: Finish, info: EntryInfo?, now: SpoolInstant) -> [Action] {
        if finish.marked == nil, !finish.rule.alwaysDelete, let info, info.kind == .regular, info.mtime > now,
           info.mtime != finish.ownMtime {
            // The dialplan moved the mtime: the file is due again then as a fresh call, so spoold's records
            // come out of it (no DelayedRetry growth, no stale counts).
            set(name, .keeping(due: info.mtime, summary: finish.summary))
            return [.read(name, forAppend: false)]
        }
        if let file = finish.marked { return handOver(name, finish, file) }
        set(name, .finishing(finish))
        // Step 1 here, where the attempt ended: from the Status line on, the file is finished.
        return [finish.rule.archive ? .markFinished(name, finish.status) : .delete(name)]
    }

    /// Archive step 2 runs off the loop while other files go on; the name is busy until its result.
    mutating func handOver(_ name: String, _ finish: Finish, _ file: FileID) -> [Action] {
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
            + finish(name, Finish(status: status, summary: "\(status.rawValue) before the last stop", rule: .moveAside, marked: file),
                     info: nil, now: now)
    }

    mutating func archived(_ name: String, _ result: Result<String?, StepFailure>, now: SpoolInstant) -> [Action] {
        guard case .moving(let finish, var reappeared, let removed)? = state(of: name) else { return [] }
        moving -= 1
        var actions: [Action]
        switch result {
        case .success(let archived?):
            actions = [.log(.notice, "[\(name)] finished: \(finish.summary); archived to outgoing_done/\(archived)"),
                       .emit(.finished(file: name, status: finish.status, disposition: .archived(archived), summary: finish.summary))]
        case .success(nil):
            // Removed, or replaced by rename, after its Status line: the new file is a new call.
            actions = [.log(.warning, "[\(name)] finished: \(finish.summary), but the file was removed or replaced before it could be archived; this result goes into no file"),
                       .emit(.replacedInFlight(file: name))]
            reappeared = true
        case .failure(let failure):
            // Marked already, so never dialled again (here, or after a restart): moved when the step is retried.
            let retryAt = now.adding(settings.stepRetryDelay)
            set(name, .finishRetry(Finish(status: finish.status, summary: finish.summary, rule: .moveAside), marked: true))
            scheduler.upsert(name, due: retryAt)
            return [.reopenDoneDirectory,
                    .log(.error, "[\(name)] finished: \(finish.summary), but cannot move it into outgoing_done: \(failure); it stays in outgoing/ with its Status line (never dialled again), trying again at \(retryAt.timeOfDay)"),
                    .emit(.stepFailed(file: name, step: "archive"))]
        }
        if reappeared {
            // A new file of this name came in meanwhile; its watcher event was ignored as busy.
            clearAttemptMemos(name)
            set(name, .due)
            return actions + note(name)
        }
        if removed {
            files[name] = nil
        } else {
            depart(name)
        }
        return actions
    }

    mutating func movedUnmarked(_ name: String, _ result: Result<String, StepFailure>, now: SpoolInstant) -> [Action] {
        guard case .finishing(let finish)? = state(of: name) else { return [] }
        switch result {
        case .success(let archived):
            depart(name)
            return [.log(.notice, "[\(name)] finished: \(finish.summary); its Status line cannot be written, so it was moved to outgoing_done/\(archived)"),
                    .emit(.finished(file: name, status: finish.status, disposition: .archived(archived), summary: finish.summary))]
        case .failure(let failure): return finishFailed(name, finish, failure, now: now)
        }
    }

    mutating func deleted(_ name: String, _ failure: StepFailure?, now: SpoolInstant) -> [Action] {
        guard case .finishing(let finish)? = state(of: name) else { return [] }
        if let failure { return finishFailed(name, finish, failure, now: now) }
        depart(name)
        return [.log(.notice, "[\(name)] finished: \(finish.summary); deleted"),
                .emit(.finished(file: name, status: finish.status, disposition: .deleted, summary: finish.summary))]
    }

    /// The file stays in outgoing/, never dialled again by this spoold; the step is tried again later.
    mutating func finishFailed(_ name: String, _ finish: Finish, _ failure: StepFailure, now: SpoolInstant) -> [Action] {
        if failure.code == Errno.noEntry, failure.infoAfter == nil {
            return [.log(.notice, "[\(name)] finished: \(finish.summary); the file was already removed by someone else")] + forget(name)
        }
        let retryAt = now.adding(settings.stepRetryDelay)
        let step = finish.rule.archive ? "archive" : "delete"
        set(name, .finishRetry(Finish(status: finish.status, summary: finish.summary, rule: finish.rule), marked: finish.marked != nil))
        scheduler.upsert(name, due: retryAt)
        return [.reopenDoneDirectory,
                .log(.error, "[\(name)] finished: \(finish.summary), but cannot \(step) it: \(failure); it stays in outgoing/ (never dialled again by this spoold), trying again at \(retryAt.timeOfDay)"),
                .emit(.stepFailed(file: name, step: step))]
    }

    /// A symlink is never followed: its archive is a new file naming the target; the link is removed.
    mutating func symlinkArchived(_ name: String, _ result: Result<String, StepFailure>, now: SpoolInstant) -> [Action] {
        switch result {
        case .success(let archived):
            files[name] = nil
            return [.log(.error, "[\(name)] refused: a symlink is never followed; finished: Failed (symlink); recorded in outgoing_done/\(archived) and the link removed"),
                    .emit(.finished(file: name, status: .failed, disposition: .archived(archived), summary: "Failed (symlink)"))]
        case .failure(let failure):
            if failure.code == Errno.noEntry, failure.infoAfter == nil { return forget(name) }
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
        let trunkText = limits.trunks.isEmpty ? "no per-trunk limits"
            : limits.trunks.map { "\($0.pattern): \(Self.describe($0.maxConcurrent, $0.maxPerSecond))" }.joined(separator: "; ")
        return [.log(.notice, "limits now: \(Self.describe(limits.maxConcurrent, limits.maxCallsPerSecond)) globally; \(trunkText)\(rules.summary)")]
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

extension SpoolStateMachine.Finish {
    /// Hostile or unreadable files are never deleted: moved aside with Status: Failed whatever Archive says.
    static func aside(_ reason: String) -> Self {
        Self(status: .failed, summary: "Failed (\(reason))", rule: .moveAside)
    }
}
