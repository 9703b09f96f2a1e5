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
            let of = EngineWording.attempt(attempt)
            return [.log(.notice, "[\(name)] cancelled during \(of): hanging up its call (ChannelId \(attempt.channelId))"),
                    .hangUp(name, channelId: attempt.channelId),
                    .reply(reply, .done("\(of) is in flight: hanging up its call; the file is then finished as Cancelled"))]
        }
    }

    /// A cancelled waiting file, read: finished as Cancelled by its own Archive option. A file that cannot
    /// be read is moved aside, never deleted; one that holds a Status line already is archived as it says.
    mutating func cancelRead(_ name: String, _ result: ReadResult, reply: UInt64, now: SpoolInstant) -> [Action] {
        var rule = FinishPlan.Rule.moveAside
        switch result {
        case .gone:
            return forget(name) + [.reply(reply, .unknown(EngineWording.unknown(name)))]
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
            if parsed.rejection == nil { rule = FinishPlan.Rule(parsed.file) }
        case .tooLarge, .unreadable: break
        }
        return [.log(.notice, "[\(name)] cancelled while waiting: not dialled")]
            + finish(name, FinishPlan(status: .cancelled, summary: "Cancelled while waiting", rule: rule), info: nil, now: now)
            + [.reply(reply, .done("cancelled; \(rule.archive ? "archived" : "deleted") with Status: Cancelled"))]
    }

    mutating func reschedule(_ name: String, to due: SpoolInstant, reply: UInt64) -> [Action] {
        let refused = QueueControl.reschedule(name, in: state(of: name), stopping: isStopping)
        return [refused.map { .reply(reply, $0) } ?? .setDue(name, due, reply: reply)]
    }

    /// The file's mtime is its due time (as for spoold's own retries), so the move survives a restart.
    mutating func dueSet(_ name: String, _ due: SpoolInstant, reply: UInt64, _ failure: StepFailure?) -> [Action] {
        if let failure {
            if failure.isGone { return forget(name) + [.reply(reply, .unknown(EngineWording.unknown(name)))] }
            let owner = failure.infoAfter.map { "; \($0.ownership), \(ownership)" } ?? ""
            return [.reply(reply, .refused("cannot set its mtime: \(failure)\(owner)"))]
        }
        trunks.remove(name)
        changeMemos(name) { $0.clearTimeMemos() }  // a held file is decided again by its window when the new time comes
        schedule(name, at: due)
        return [.log(.notice, "[\(name)] rescheduled by spoold reschedule: due at \(due.timeOfDay)"),
                .reply(reply, .done("due at \(due.timeOfDay) UTC"))]
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
