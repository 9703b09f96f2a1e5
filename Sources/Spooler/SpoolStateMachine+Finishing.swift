import CallFile

/// Finishing (AlwaysDelete, the archive's two steps, delete), hostile files moved aside, live limits, stop.
/// What each finishing step's result leads to is `FinishSteps`'s; here it is applied.
extension SpoolStateMachine {
    /// Takes the plan's first step (`FinishPlan.firstStep`: AlwaysDelete, then archive or delete). `info` is the
    /// file's lstat (needed only when the file is not marked and AlwaysDelete is off).
    mutating func finish(_ name: String, _ finish: FinishPlan, info: EntryInfo?, now: SpoolInstant) -> [Action] {
        apply(FinishSteps.first(name, finish, info: info, now: now), to: name)
    }

    /// Carries out what follows a finishing step.
    mutating func apply(_ next: FinishSteps.Next, to name: String) -> [Action] {
        switch next {
        case .step(let state, let action):
            if case .moving = state { moving += 1 }
            set(name, state)
            return [action]
        case .left(let lines, .departed):
            depart(name)
            return lines
        case .left(let lines, .dropped):
            drop(name)
            return lines
        case .left(let lines, .forgotten): return lines + forget(name)
        case .left(let lines, .newCall):
            changeMemos(name) { $0.clearAttemptMemos() }
            set(name, .due)
            return lines + note(name)
        case .later(let state, let at, let lines):
            schedule(name, at: at, as: state)
            return lines
        case .reuse(let due, let lines):
            files[name]!.memos.rememberedAttempts = 0
            schedule(name, at: due)
            return lines
        }
    }

    mutating func marked(_ name: String, _ file: FileID?) -> [Action] {
        guard case .finishing(let finish)? = state(of: name) else { return [] }
        return apply(FinishSteps.marked(name, finish, file), to: name)
    }

    /// A file a stop caught between its Status line and its move into outgoing_done: finished already.
    mutating func archiveMarked(_ name: String, status: CallStatus, file: FileID, now: SpoolInstant) -> [Action] {
        let (line, plan) = FinishSteps.alreadyFinished(name, status: status, file: file)
        return [line] + finish(name, plan, info: nil, now: now)
    }

    mutating func archived(_ name: String, _ result: Result<String?, StepFailure>, now: SpoolInstant) -> [Action] {
        guard case .moving(let finish, let reappeared, let removed)? = state(of: name) else { return [] }
        moving -= 1
        return apply(FinishSteps.archived(name, finish, reappeared: reappeared, removed: removed, result,
                                          retryAt: now.adding(settings.stepRetryDelay)), to: name)
    }

    mutating func movedUnmarked(_ name: String, _ result: Result<String, StepFailure>, now: SpoolInstant) -> [Action] {
        guard case .finishing(let finish)? = state(of: name) else { return [] }
        return apply(FinishSteps.movedUnmarked(name, finish, result, retryAt: now.adding(settings.stepRetryDelay)), to: name)
    }

    mutating func deleted(_ name: String, _ failure: StepFailure?, now: SpoolInstant) -> [Action] {
        guard case .finishing(let finish)? = state(of: name) else { return [] }
        return apply(FinishSteps.deleted(name, finish, failure, retryAt: now.adding(settings.stepRetryDelay)), to: name)
    }

    mutating func symlinkArchived(_ name: String, _ result: Result<String, StepFailure>, now: SpoolInstant) -> [Action] {
        apply(FinishSteps.symlinkArchived(name, result, retryAt: now.adding(settings.stepRetryDelay)), to: name)
    }

    mutating func rewritten(_ name: String, _ failure: StepFailure?) -> [Action] {
        guard case .keeping(let due, let summary)? = state(of: name) else { return [] }
        return apply(FinishSteps.kept(name, due: due, summary: summary, failure: failure?.text), to: name)
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
