import CallFile

/// An attempt a stop or crash left in flight: the file holds a StartRetry with no end after it. The file
/// cannot say whether the call is still up, so the backend is asked by the ChannelId recomputed from the record;
/// then the call is followed to its hangup (adopted: it holds a slot, as any call in flight), or the attempt is
/// counted with an AbortRetry record and the retry rules go on, or, when the backend cannot tell yet, it is
/// asked again shortly. The pid in the record is never consulted, so a restart that reuses it (containers)
/// behaves the same.
///
/// A type of its own so that this check's answers, the attempt number, times and ChannelId it derives from
/// the record alone, and the lines and records each answer gives, are tested on their own
/// (`InterruptedAttemptTests`); the core carries them out (schedule, slots, memos, the finish).
struct InterruptedAttempt: Equatable, Sendable {
    typealias Action = SpoolStateMachine.Action
    let name: String
    var file: CallFile
    var start: RetryRecord
    /// The ChannelId the interrupted call was placed with.
    let channelId: String
    /// The AbortRetry being written (once the backend said the call is gone): its number, the next due time.
    private(set) var abortNumber = 0, abortDue: SpoolInstant?

    /// What to do after the backend's answer: ask again later; follow the call; write this AbortRetry.
    enum Next: Equatable { case askAgain, adopt, writeAbort(number: Int, due: SpoolInstant) }

    /// The file `name`'s StartRetry record `start` has no end after it.
    init(name: String, file: CallFile, start: RetryRecord) {
        (self.name, self.file, self.start) = (name, file, start)
        channelId = ChannelID.make(fileName: name, startEpoch: start.epoch, attempt: start.number)
    }

    /// When the attempt started, to the second: StartRetry's epoch is the start plus RetryTime.
    var started: SpoolInstant { SpoolInstant(seconds: start.epoch - Int64(file.retryTime)) }

    /// Takes the backend's answer to "is this call up?" (nil: it cannot tell yet). `made`: the attempts over
    /// that spoold knows of; the aborted one is the next, and the next attempt is due RetryTime after now.
    /// Nil once an answer was taken: the AbortRetry is under way, and a late answer changes nothing.
    mutating func answer(_ exists: Bool?, made: Int, now: SpoolInstant) -> Next? {
        guard abortDue == nil else { return nil }
        switch exists {
        case nil: return .askAgain
        case true?: return .adopt
        case false?:
            let due = now.adding(seconds: file.retryTime)
            (abortNumber, abortDue) = (made + 1, due)
            return .writeAbort(number: made + 1, due: due)
        }
    }

    /// Whether the aborted attempt was the last one the file allows (MaxRetries + 1).
    var abortedLast: Bool { abortNumber > file.maxRetries }

    /// What the answer `next` gives to carry out: the line saying the backend cannot tell yet; the line saying
    /// the call is followed, and the lstat that adopts it; the AbortRetry record (`pid`: spoold's), with the next
    /// due time as its times and the lstat after it asked for.
    func actions(after next: Next, now: SpoolInstant, pid: Int) -> [Action] {
        switch next {
        case .askAgain:
            [.log(.warning, "[\(name)] attempt \(start.number) was in flight at the last stop; the backend cannot say yet whether its call (ChannelId \(channelId)) is up, asking again shortly")]
        case .adopt:
            [.log(.notice, "[\(name)] attempt \(start.number) was in flight at the last stop and its call is still up (ChannelId \(channelId)): following it to its hangup"),
             .stat(name)]
        case .writeAbort(let abort, let due):
            [.appendRecord(name, RetryRecord(kind: .abort, pid: pid, number: abort, epoch: now.seconds, line: nil).bytes,
                           atime: due, mtime: due, statAfter: true)]
        }
    }

    /// What the AbortRetry's result leads to: the file was removed meanwhile; the last attempt was aborted
    /// (Expired: these lines, then the plan's finish with the lstat after); or the next attempt is due then.
    enum Counted: Equatable {
        case gone
        case expired([Action], FinishPlan, info: EntryInfo?)
        case retry([Action], due: SpoolInstant)
    }

    /// The AbortRetry record's result (nil when none is under way). A record that cannot be written is counted
    /// in memory all the same. `emitsEvents`: someone reads the attempt's end.
    func counted(_ result: Result<SpoolStateMachine.Appended, SpoolStateMachine.StepFailure>, emitsEvents: Bool,
                 now: SpoolInstant) -> Counted? {
        guard let due = abortDue else { return nil }
        var lines: [Action] = []
        var info: EntryInfo?
        switch result {
        case .success(let appended): info = appended.infoAfter
        case .failure(let failure):
            if failure.isNoEntry { return .gone }
            info = failure.infoAfter
            lines.append(.log(.error, "[\(name)] cannot write the AbortRetry record: \(failure); spoold keeps the count in memory"))
        }
        lines += AttemptReport.ended(name, abortNumber, channelId, file, started: started, now, .aborted, emitsEvents: emitsEvents)
        let cut = "[\(name)] attempt \(abortNumber) of \(file.maxRetries + 1) was cut short by the last stop (its call is gone);"
        if abortedLast {
            return .expired(lines + [.log(.notice, "\(cut) no attempts left")],
                            FinishPlan(.expired, "Expired after \(abortNumber) attempts", file), info: info)
        }
        return .retry(lines + [.log(.notice, "\(cut) counted as aborted, next attempt at \(due.timeOfDay)")], due: due)
    }

    /// The call is still up: it is followed from now on as the attempt in flight, with its number and
    /// ChannelId from the record; the mtime it found is spoold's own (set by the StartRetry).
    func adopted(info: EntryInfo?, now: SpoolInstant, token: UInt64) -> CallAttempt {
        let mtime = info?.mtime ?? now
        return CallAttempt(file: file, number: start.number, channelId: channelId, lengthBefore: 0, mtimeBefore: mtime,
                           ownMtime: mtime, fileID: info?.fileID, started: started, token: token)
    }
}
