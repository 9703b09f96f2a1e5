import CallFile

/// Queue control from the running daemon (`spoold queue`, `cancel`, `reschedule`): what each state allows.
/// A waiting file (scheduled, due, parked, held by a window) can be cancelled or moved; a call in flight can be cancelled
/// (hung up first) but not moved; anything being finished or looked at after a restart is refused with
/// the reason. Every request is answered with exactly one `.reply`.
extension SpoolStateMachine {
    /// The answer to one control request.
    public enum ControlReply: Equatable, Sendable {
        /// Done (or under way, for a call being hung up): what was done.
        case done(String)
        /// spoold knows no file of that name in outgoing/.
        case unknown(String)
        /// Not allowed in the file's state: why.
        case refused(String)
    }

    mutating func cancel(_ name: String, reply: UInt64, now: SpoolInstant) -> [Action] {
        if isStopping { return [.reply(reply, .refused("spoold is stopping; nothing is cancelled now"))] }
        switch state(of: name) {
        case .scheduled?, .parked?, .due?, .held?:
            scheduler.remove(name)
            trunks.remove(name)
            set(name, .cancelling(reply: reply))
            // The file says whether it is archived or deleted.
            return [.read(name, forAppend: false)]
        case .dialling(var attempt)?:
            if attempt.cancelled { return [.reply(reply, .refused("its call is being hung up already"))] }
            attempt.cancelled = true
            set(name, .dialling(attempt))
            let of = Self.describe(attempt)
            return [.log(.notice, "[\(name)] cancelled during \(of): hanging up its call (ChannelId \(attempt.channelId))"),
                    .hangUp(name, channelId: attempt.channelId),
                    .reply(reply, .done("\(of) is in flight: hanging up its call; the file is then finished as Cancelled"))]
        case let state?:
            return [.reply(reply, .refused(Self.whyNot(state, "cancelled")))]
        case nil:
            return [.reply(reply, .unknown(Self.unknown(name)))]
        }
    }

    /// A cancelled waiting file, read: finished as Cancelled by its own Archive option. A file that cannot
    /// be read is moved aside, never deleted; one that holds a Status line already is archived as it says.
    mutating func cancelRead(_ name: String, _ result: ReadResult, reply: UInt64, now: SpoolInstant) -> [Action] {
        var rule = FinishRule.moveAside
        switch result {
        case .gone:
            return forget(name) + [.reply(reply, .unknown(Self.unknown(name)))]
        case .symlink, .notRegular:
            // Not a call file to finish: it takes the way any such name takes when due.
            schedule(name, at: now)
            return [.reply(reply, .refused("it is not a regular file (a symlink is refused, anything else skipped, when it comes due)"))]
        case .read(let bytes, let info):
            let parsed = CallFileParser.parse(bytes, path: settings.outgoingPath + "/" + name)
            if let status = parsed.file.finishedStatus {
                return archiveMarked(name, status: status, file: info.fileID, now: now)
                    + [.reply(reply, .refused("it is finished already (Status: \(status.rawValue)); archiving it"))]
            }
            if parsed.rejection == nil { rule = FinishRule(parsed.file) }
        case .tooLarge, .unreadable: break
        }
        let how = rule.archive ? "archived" : "deleted"
        return [.log(.notice, "[\(name)] cancelled while waiting: not dialled")]
            + finish(name, Finish(status: .cancelled, summary: "Cancelled while waiting", rule: rule), info: nil, now: now)
            + [.reply(reply, .done("cancelled; \(how) with Status: Cancelled"))]
    }

    /// The cancelled call has ended: its outcome is not acted on (no retry, no Completed).
    mutating func cancelledAttemptOver(_ name: String, _ attempt: Attempt, ended: SpoolInstant) -> [Action] {
        let summary = "Cancelled during attempt \(attempt.number) of \(attempt.file.maxRetries + 1)"
        return [.log(.notice, "[\(name)] \(Self.describe(attempt)): ended after spoold cancel hung it up")]
            + finish(name, Finish(status: .cancelled, summary: summary, rule: FinishRule(attempt.file)), info: nil, now: ended)
    }

    mutating func reschedule(_ name: String, to due: SpoolInstant, reply: UInt64) -> [Action] {
        if isStopping { return [.reply(reply, .refused("spoold is stopping; nothing is rescheduled now"))] }
        switch state(of: name) {
        case .scheduled?, .parked?, .due?, .held?: return [.setDue(name, due, reply: reply)]
        case let state?: return [.reply(reply, .refused(Self.whyNot(state, "rescheduled")))]
        case nil: return [.reply(reply, .unknown(Self.unknown(name)))]
        }
    }

    /// The file's mtime is its due time (as for spoold's own retries), so the move survives a restart.
    mutating func dueSet(_ name: String, _ due: SpoolInstant, reply: UInt64, _ failure: StepFailure?) -> [Action] {
        if let failure {
            if failure.code == Errno.noEntry, failure.infoAfter == nil {
                return forget(name) + [.reply(reply, .unknown(Self.unknown(name)))]
            }
            let owner = failure.infoAfter.map { "; \($0.ownership), \(ownership)" } ?? ""
            return [.reply(reply, .refused("cannot set its mtime: \(failure)\(owner)"))]
        }
        trunks.remove(name)
        files[name]?.memos.stuckMtime = nil
        files[name]?.memos.heldUntil = nil  // decided again by its window when the new time comes
        schedule(name, at: due)
        return [.log(.notice, "[\(name)] rescheduled by spoold reschedule: due at \(due.timeOfDay)"),
                .reply(reply, .done("due at \(due.timeOfDay) UTC"))]
    }

    static func unknown(_ name: String) -> String {
        "spoold knows no call file named '\(name)' in outgoing/ (finished already, never there, or a dot-file)"
    }

    /// Why a file in `state` cannot be `cancelled` or `rescheduled` now.
    static func whyNot(_ state: FileState, _ verb: String) -> String {
        switch state {
        case .dialling(let attempt): "\(describe(attempt)) is in flight; only a waiting file can be \(verb)"
        case .starting: "its attempt is being started; try again in a moment"
        case .checking: "an attempt the last stop interrupted is being looked for on the PBX; try again in a moment"
        case .cancelling: "it is being cancelled already"
        case .skipped: "it is not a call file (spoold never opens it)"
        case .departed: "it is finished and has left outgoing/"
        case .ending, .keeping, .finishing, .moving, .finishRetry: "it is finishing (its last attempt ended)"
        case .scheduled, .parked, .due, .held: "it is waiting"
        }
    }

    /// Control requests that came after the engine stopped still get an answer.
    func refusedAfterStop(_ event: Event) -> [Action] {
        switch event {
        case .cancel(_, let reply), .reschedule(_, _, let reply), .dueSet(_, _, let reply, _):
            [.reply(reply, .refused("spoold has stopped"))]
        default: []
        }
    }

    // MARK: - The listing

    /// Every file spoold knows, in one pass over its entries (unsorted; callers sort and format).
    public func queueEntries(now: SpoolInstant) -> [QueueEntry] {
        let parkedDue = trunks.parkedDueTimes
        var entries: [QueueEntry] = []
        entries.reserveCapacity(files.count)
        for (name, entry) in files {
            let summary = entry.memos.summary
            switch entry.state {
            case .scheduled:
                let due = scheduler.due(of: name)
                entries.append(QueueEntry(name: name, state: due.map { $0 <= now } == true ? .due : .scheduled, due: due, summary: summary))
            case .due: entries.append(QueueEntry(name: name, state: .due, due: now, summary: summary))
            case .parked: entries.append(QueueEntry(name: name, state: .parked, due: parkedDue[name], summary: summary))
            case .held(let until): entries.append(QueueEntry(name: name, state: .held, due: until, summary: summary))
            case .starting(let attempt), .dialling(let attempt):
                entries.append(QueueEntry(name: name, state: .inFlight(attempt: attempt.number), due: attempt.started,
                                          summary: Self.summary(attempt.file, made: attempt.number - 1)))
            case .checking(let recovery):
                entries.append(QueueEntry(name: name, state: .checking, due: nil,
                                          summary: Self.summary(recovery.file, made: recovery.start.number - 1)))
            case .ending(let attempt, _, _):
                entries.append(QueueEntry(name: name, state: .finishing, due: nil, summary: Self.summary(attempt.file, made: attempt.number)))
            case .finishing, .keeping, .moving, .finishRetry, .cancelling:
                entries.append(QueueEntry(name: name, state: .finishing, due: scheduler.due(of: name), summary: summary))
            case .departed, .skipped: continue
            }
        }
        return entries
    }

    static func summary(_ file: CallFile, made: Int) -> FileSummary {
        FileSummary(channel: file.channel?.description ?? "", attemptsMade: made, attemptsAllowed: file.maxRetries + 1)
    }

    /// Remembers what a read of the file said, for the listing.
    mutating func remember(_ name: String, _ file: CallFile, made: Int) {
        files[name]?.memos.summary = Self.summary(file, made: made)
    }
}

/// One line of `spoold queue`.
public struct QueueEntry: Equatable, Sendable {
    public enum State: Equatable, Sendable {
        /// Waits for its due time (or a retry time).
        case scheduled
        /// Due, waiting for a free slot, the rate limit or the backend.
        case due
        /// Due, but a trunk it matches ([limit:PATTERN]) is at its limit.
        case parked
        /// Due, but outside its calling window ([window:PATTERN]): due again when the window opens.
        case held
        /// Attempt n is in flight (of the summary's attemptsAllowed).
        case inFlight(attempt: Int)
        /// An attempt the last stop interrupted is being looked for on the PBX.
        case checking
        /// Its last attempt ended (or it was cancelled): the Status line, the archive or the delete is under way.
        case finishing
    }

    public var name: String
    public var state: State
    /// When it is due (for a call in flight: when the attempt started); nil when it has none.
    public var due: SpoolInstant?
    /// Channel and attempts, once spoold has read the file (at start-up for files due later, and at each
    /// attempt); nil for a file that appeared since and waits for its first due time.
    public var summary: SpoolStateMachine.FileSummary?

    public init(name: String, state: State, due: SpoolInstant?, summary: SpoolStateMachine.FileSummary?) {
        self.name = name
        self.state = state
        self.due = due
        self.summary = summary
    }
}
