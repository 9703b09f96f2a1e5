import CallFile

/// Due files, the limits, attempts and their outcomes, and the recovery of attempts a crash left in flight.
extension SpoolStateMachine {
    /// One look for work: the next due file (within the limits), else the sweep's batch, else the time to
    /// sleep until. The shell ticks again after each file until it is told to wait.
    mutating func tick(_ gate: Gate, now: SpoolInstant) -> [Action] {
        if stopDeadline != nil { return drain(now: now) }
        var actions: [Action] = []
        if turn.hasRoom {
            if !gate.ready {
                if !backend.waiting, let due = scheduler.nextDue(in: files), due <= now,
                   let line = backend.cannotTakeCalls(firstDue: scheduler.firstDue(in: files)) { actions.append(line) }
            } else {
                if let line = backend.ready() { actions.append(line) }
                if limiter.canStart(now: now), let allowed = gate.allowedAt, allowed <= now, let name = takeDue(now: now) {
                    turn.took()
                    return actions + takeUp(name)
                }
            }
        }
        if !sweep.isEmpty {
            let files = self.files  // read while the sweep changes (a reference, not a copy: nothing is added)
            // Of the batch, the files still waiting are read (for a Status line, or an interrupted attempt).
            let reads = sweep.nextBatch { files[$0]?.state == .scheduled ? Action.read($0, forAppend: false) : nil }
            if let reads, !reads.isEmpty { return actions + reads }
        }
        // The turn is over. A full turn comes back at once, after the news that came meanwhile.
        let until = turn.isFull ? now : TurnBudget.wake(
            nextDue: scheduler.nextDue(in: files), sweepPending: !sweep.isEmpty, gate: gate,
            limiter: limiter, trunks: trunks, backendRetryDelay: settings.backendRetryDelay,
            backendWakesEngine: settings.backendWakesEngine, now: now)
        turn.turnOver()
        sweep.turnOver()
        return actions + [.wait(until: until)]
    }

    /// The earliest due of the scheduled files and of the files parked behind a trunk that has room again.
    mutating func takeDue(now: SpoolInstant) -> String? {
        guard trunks.hasParked else { return scheduler.popDue(now: now, in: &files) }
        let scheduledDue = scheduler.nextDue(in: files).flatMap { $0 <= now ? $0 : nil }
        do {
            let files = self.files  // released before `files` is changed below, so it is not copied
            // A parked entry is stale once the file was dealt with another way.
            if let parked = trunks.takeReleasable(now: now, dueBy: scheduledDue, isStale: { files[$0]?.state != .parked }) {
                return parked.name
            }
        }
        return scheduledDue == nil ? nil : scheduler.popDue(now: now, in: &files)
    }

    /// A due file: a finish step to retry looks at the file again; any other file is read. (One look-up of
    /// the name: its entry is found once and changed in place.)
    mutating func takeUp(_ name: String) -> [Action] {
        guard let index = files.index(forKey: name) else {
            files[name] = Entry(state: .due)
            return [.read(name, forAppend: true)]
        }
        if case .finishRetry = files.values[index].state { return [.stat(name)] }
        files.values[index].state = .due
        // Opened at once, without an lstat first: O_NOFOLLOW refuses a symlink, fstat tells the rest, and the
        // StartRetry record goes through the same descriptor.
        return [.read(name, forAppend: true)]
    }

    mutating func fileRead(_ name: String, _ result: ReadResult, now: SpoolInstant) -> [Action] {
        switch state(of: name) {
        case .due?: return process(name, result, now: now)
        case .keeping(let due, let summary)?:
            return apply(FinishSteps.strip(name, result, path: settings.outgoingPath + "/" + name, due: due, summary: summary), to: name)
        case .scheduled?: return swept(name, result, now: now)
        case .cancelling(let reply)?: return cancelRead(name, result, reply: reply, now: now)
        default: return []
        }
    }

    /// A due file, read: what it means is `DueFile`'s decision; here it is applied.
    mutating func process(_ name: String, _ result: ReadResult, now: SpoolInstant) -> [Action] {
        let memos = files[name]?.memos ?? FileMemos()
        switch DueFile.decide(name, result, memos: memos, path: settings.outgoingPath + "/" + name, maxFileSize: settings.maxFileSize,
                              ownership: ownership, now: now) {
        case .gone: return forget(name)
        case .symlink: return [.archiveSymlink(name)]
        case .notRegular: return note(name)
        case .later(let due):
            schedule(name, at: due)
            return []
        case .finish(let lines, let plan, let info): return lines + finish(name, plan, info: info, now: now)
        case .leave(let lines, let due):
            schedule(name, at: due)
            return lines
        case .finishedAlready(let status, let file): return archiveMarked(name, status: status, file: file, now: now)
        case .runnable(let file, let made, let info, let next):
            remember(name, file, made: made)
            switch next {
            case .recover(let start): return recover(name, file: file, start: start)
            case .expire(let lines, let plan): return lines + finish(name, plan, info: info, now: now)
            case .dial(let due): return dial(name, file, made: made, due: due, info: info, memos: memos, now: now)
            }
        }
    }

    /// A call file to dial, unless its window holds it, it is too late, or a trunk it matches is at its limit.
    mutating func dial(_ name: String, _ file: CallFile, made: Int, due: SpoolInstant, info: EntryInfo, memos: FileMemos,
                       now: SpoolInstant) -> [Action] {
        if let channel = file.channel?.description {
            switch DueFile.timing(name, file, channel: channel, due: due, rules: rules, now: now) {
            case .dialNow: break
            case .hold(let until, let lines):
                schedule(name, at: until, as: .held(until: until))
                files[name]!.memos.heldUntil = until
                return lines
            case .expire(let lines, let plan): return lines + finish(name, plan, info: info, now: now)
            }
            if memos.heldUntil != nil { files[name]!.memos.heldUntil = nil }  // dialled: a later touch to it is a touch
            if let rule = trunks.parkIfBlocked(name, channel: channel, due: min(info.mtime, now), now: now) {
                set(name, .parked)
                return [.debug(.parked(name: name, pattern: rule.pattern.description, limits: EngineWording.limits(rule.maxConcurrent, rule.maxPerSecond)))]
            }
        }
        nextToken += 1
        let attempt = CallAttempt(file, name: name, made: made, info: info, now: now, token: nextToken)
        set(name, .starting(attempt))
        return [.appendRecord(name, record(.start, attempt.number, epoch: attempt.startEpoch), atime: attempt.startAtime,
                              mtime: attempt.ownMtime, statAfter: false)]
    }

    /// A held file's mtime cannot be set: it keeps its own, which is then no touch either (it is held all the same).
    mutating func timesRefused(_ name: String, _ failure: StepFailure) -> [Action] {
        guard case .held? = state(of: name), let info = failure.infoAfter else { return [] }
        return noteStuckTimes(name, failure, info: info, mtime: info.mtime)
    }

    mutating func recordWritten(_ name: String, _ result: Result<Appended, StepFailure>, now: SpoolInstant) -> [Action] {
        switch state(of: name) {
        case .starting(let attempt)?: return started(name, attempt, result, now: now)
        case .ending(let attempt, let outcome, let ended)?:
            return endRecorded(AttemptEnd(name: name, attempt: attempt, outcome: outcome, ended: ended), result)
        case .checking(let recovery)?: return abortRecorded(name, recovery, result, now: now)
        default: return []
        }
    }

    /// The StartRetry record is in the file (or not): what that means is `AttemptStart`'s; here it is applied.
    mutating func started(_ name: String, _ attempt: CallAttempt, _ result: Result<Appended, StepFailure>, now: SpoolInstant) -> [Action] {
        var refusedInARow = false, actions: [Action] = []
        switch result {
        case .failure(let failure) where failure.isRefused: refusedInARow = files[name]!.memos.recordWriteRefused()
        case .success(let appended):
            if let failure = appended.timesFailure { actions = noteStuckTimes(name, failure, info: appended.infoAfter, mtime: attempt.mtimeBefore) }
        case .failure: break
        }
        switch AttemptStart(name: name, attempt: attempt).decide(result, refusedInARow: refusedInARow, ownership: ownership,
                                                                 stepRetryDelay: settings.stepRetryDelay, now: now) {
        case .gone: return forget(name)
        case .refusedForGood(let lines, let plan): return lines + finish(name, plan, info: nil, now: now)
        case .retry(let lines, let at):
            schedule(name, at: at)
            return lines
        case .unplaceable:
            files[name] = nil
            return actions
        case .place(let attempt, let channel, let lines):
            limiter.start(now: now)
            trunks.start(name, channel: channel, now: now)
            // One look-up: the refusals count starts again and the state changes in place.
            if let index = files.index(forKey: name) {
                files.values[index].memos.refusedRecordWrites = 0
                files.values[index].state = .dialling(attempt)
            } else {
                files[name] = Entry(state: .dialling(attempt))
            }
            inFlight += 1
            return actions + lines
        }
    }

    mutating func noteStuckTimes(_ name: String, _ failure: StepFailure, info: EntryInfo?, mtime: SpoolInstant) -> [Action] {
        guard files[name]?.memos.timesRefused(keeping: info?.mtime ?? mtime) != false else { return [] }
        return [.log(.warning, "[\(name)] cannot set the file's times (\(failure); \(info?.ownership ?? "owner unknown")); \(ownership) and keeps the retry count in memory. Fix: make the spoold user own call files (chown, or create them as that user)")]
    }

    // MARK: - A call in flight

    /// The backend's news about a call, in order (`CallAttempt` folds them): answers are noted, an ended attempt
    /// goes on to its records. An adopted call's report says `answered` too (only if it was), so a call adopted
    /// while ringing that then ends unanswered is a failed attempt, never Completed.
    mutating func callStage(_ name: String, token: UInt64, _ stage: CallStage?, now: SpoolInstant) -> [Action] {
        // One look-up: the entry is found once and changed in place (nothing is added to or removed from
        // `files` below, so the index stays valid).
        guard let index = files.index(forKey: name), case .dialling(var attempt) = files.values[index].state, attempt.token == token
        else { return [] }
        guard let outcome = attempt.outcome(after: stage, finishAtAnswer: settings.finishAtAnswer) else {
            if case .answered? = stage { files.values[index].state = .dialling(attempt) }  // the answer, noted
            return []
        }
        limiter.finish()
        trunks.finish(name)
        inFlight -= 1
        files.values[index].state = .ending(attempt, outcome, ended: now)
        return AttemptReport.ended(name, attempt.number, attempt.channelId, attempt.file, started: attempt.started, now,
                                   outcome.report, emitsEvents: settings.emitsEvents) + [.stat(name)]  // the name may name another file by now
    }

    /// What the attempt's end means is `AttemptEnd`'s decision; here it is applied.
    mutating func attemptOver(_ name: String, _ attempt: CallAttempt, _ outcome: CallAttempt.Outcome, info: EntryInfo?, ended: SpoolInstant) -> [Action] {
        let end = AttemptEnd(name: name, attempt: attempt, outcome: outcome, ended: ended)
        switch end.decide(info: info, finishAtAnswer: settings.finishAtAnswer, rules: rules, pid: settings.pid) {
        case .replaced(let lines):
            files[name]!.memos.newFile()
            set(name, .due)
            return lines + noted(name, info, now: ended)
        case .finish(let lines, let plan, let info): return lines + finish(name, plan, info: info, now: ended)
        case .takeBack(let actions): return actions
        case .writeEnd(let record):
            files[name]!.memos.rememberedAttempts = attempt.number
            return [record]
        }
    }

    mutating func truncated(_ name: String, _ failure: StepFailure?) -> [Action] {
        guard case .ending(let attempt, let outcome, let ended)? = state(of: name) else { return [] }
        schedule(name, at: ended.adding(settings.backendRetryDelay))
        return AttemptEnd(name: name, attempt: attempt, outcome: outcome, ended: ended).takenBack(failure)
    }

    /// A failed attempt's EndRetry record is in the file, or not: the next attempt is scheduled.
    mutating func endRecorded(_ end: AttemptEnd, _ result: Result<Appended, StepFailure>) -> [Action] {
        guard case .failed = end.outcome else { return [] }
        var actions: [Action] = []
        if case .success(let appended) = result, let failure = appended.timesFailure {
            actions = noteStuckTimes(end.name, failure, info: appended.infoAfter, mtime: end.attempt.mtimeBefore)
        }
        switch end.recorded(result, rules: rules) {
        case .gone(let line): return [line] + forget(end.name)
        case .retry(let lines, let due):
            if let due {
                schedule(end.name, at: due)
                remember(end.name, end.attempt.file, made: end.attempt.number)
            }
            return actions + lines
        }
    }

    // MARK: - Recovery of an attempt a stop or crash left in flight (`InterruptedAttempt`)

    mutating func recover(_ name: String, file: CallFile, start: RetryRecord) -> [Action] {
        let recovery = InterruptedAttempt(name: name, file: file, start: start)
        set(name, .checking(recovery))
        return [.askChannel(name, channelId: recovery.channelId)]
    }

    mutating func channelChecked(_ name: String, _ exists: Bool?, now: SpoolInstant) -> [Action] {
        guard let entry = files[name], case .checking(var recovery) = entry.state,
              let next = recovery.answer(exists, made: entry.memos.attemptsMade(recovery.file), now: now) else { return [] }
        switch next {
        case .askAgain: schedule(name, at: now.adding(settings.backendRetryDelay))
        case .adopt: break  // the lstat asked for next adopts it
        case .writeAbort: set(name, .checking(recovery))
        }
        return recovery.actions(after: next, now: now, pid: settings.pid)
    }

    /// The call is still up: it holds a slot (not a new call) and is followed to its hangup.
    mutating func adopt(_ name: String, _ recovery: InterruptedAttempt, info: EntryInfo?, now: SpoolInstant) -> [Action] {
        nextToken += 1
        let attempt = recovery.adopted(info: info, now: now, token: nextToken)
        limiter.adopt()
        trunks.adopt(name, channel: recovery.file.channel?.description ?? "")
        set(name, .dialling(attempt))
        inFlight += 1
        return [.emit(.adopted(file: name, channelId: recovery.channelId)),
                .follow(name, channelId: recovery.channelId, token: attempt.token)]
    }

    mutating func abortRecorded(_ name: String, _ recovery: InterruptedAttempt, _ result: Result<Appended, StepFailure>,
                                now: SpoolInstant) -> [Action] {
        guard let counted = recovery.counted(result, emitsEvents: settings.emitsEvents, now: now) else { return [] }
        switch counted {
        case .gone: return forget(name)
        case .expired(let lines, let plan, let info):
            files[name]!.memos.rememberedAttempts = recovery.abortNumber
            return lines + finish(name, plan, info: info, now: now)
        case .retry(let lines, let due):
            files[name]!.memos.rememberedAttempts = recovery.abortNumber
            schedule(name, at: due)
            remember(name, recovery.file, made: recovery.abortNumber)
            return lines
        }
    }

    /// A retry record in Asterisk's format, with spoold's pid.
    func record(_ kind: RetryRecord.Kind, _ number: Int, epoch: Int64) -> [UInt8] {
        RetryRecord(kind: kind, pid: settings.pid, number: number, epoch: epoch, line: nil).bytes
    }
}
