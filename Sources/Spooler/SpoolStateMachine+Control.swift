import CallFile

/// Queue control from the running daemon (`spoold queue`, `cancel`, `reschedule`), carried out: what each
/// state allows is `QueueControl`'s. Every request is answered with exactly one `.reply`.
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
        switch QueueControl.cancel(name, in: state(of: name), stopping: isStopping) {
        case .refuse(let answer): return [.reply(reply, answer)]
        case .finishWaiting:
            unschedule(name)
            trunks.remove(name)
            set(name, .cancelling(reply: reply))
            // The file says whether it is archived or deleted.
            return [.read(name, forAppend: false)]
        case .hangUp(var attempt):
            attempt.cancelled = true
            set(name, .dialling(attempt))
            return QueueControl.hangingUp(name, attempt, reply: reply)
        }
    }

    mutating func cancelRead(_ name: String, _ result: ReadResult, reply: UInt64, now: SpoolInstant) -> [Action] {
        switch QueueControl.cancelRead(name, result, path: settings.outgoingPath + "/" + name) {
        case .gone(let answer): return forget(name) + [.reply(reply, answer)]
        case .notRegular(let answer):
            schedule(name, at: now)
            return [.reply(reply, answer)]
        case .finishedAlready(let status, let file, let answer):
            return archiveMarked(name, status: status, file: file, now: now) + [.reply(reply, answer)]
        case .cancel(let line, let plan, let answer): return [line] + finish(name, plan, info: nil, now: now) + [.reply(reply, answer)]
        }
    }

    mutating func reschedule(_ name: String, to due: SpoolInstant, reply: UInt64) -> [Action] {
        let refused = QueueControl.reschedule(name, in: state(of: name), stopping: isStopping)
        return [refused.map { .reply(reply, $0) } ?? .setDue(name, due, reply: reply)]
    }

    /// The file's mtime is its due time (as for spoold's own retries), so the move survives a restart.
    mutating func dueSet(_ name: String, _ due: SpoolInstant, reply: UInt64, _ failure: StepFailure?) -> [Action] {
        let (gone, actions) = QueueControl.dueSet(name, due, reply: reply, failure, ownership: ownership)
        if gone { return forget(name) + actions }
        guard failure == nil else { return actions }
        trunks.remove(name)
        changeMemos(name) { $0.clearTimeMemos() }  // a held file is decided again by its window when the new time comes
        schedule(name, at: due)
        return actions
    }

    // MARK: - The listing

    /// Every file spoold knows, in one pass over its entries (unsorted; callers sort and format).
    public func queueEntries(now: SpoolInstant) -> [QueueEntry] {
        let parkedDue = trunks.parkedDueTimes
        var entries: [QueueEntry] = []
        entries.reserveCapacity(files.count)
        for (name, entry) in files {
            if let listed = QueueEntry(name, entry, parkedDue: parkedDue, now: now) { entries.append(listed) }
        }
        return entries
    }

    /// Remembers what a read of the file said, for the listing.
    mutating func remember(_ name: String, _ file: CallFile, made: Int) {
        files[name]?.memos.summary = FileSummary(file, made: made)
    }
}
