import CallFile

/// An attempt a stop or crash left in flight: the file holds a StartRetry with no end after it. The file
/// cannot say whether the call is still up, so the backend is asked by the ChannelId recomputed from the record;
/// then the call is followed to its hangup (adopted: it holds a slot, as any call in flight), or the attempt is
/// counted with an AbortRetry record and the retry rules go on, or, when the backend cannot tell yet, it is
/// asked again shortly. The pid in the record is never consulted, so a restart that reuses it (containers)
/// behaves the same.
///
/// A type of its own so that this check's answers, and the attempt number, times and ChannelId it derives
/// from the record alone, are tested on their own (`InterruptedAttemptTests`); the core carries them out.
struct InterruptedAttempt: Equatable, Sendable {
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
        (self.file, self.start) = (file, start)
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

    /// The call is still up: it is followed from now on as the attempt in flight, with its number and
    /// ChannelId from the record; the mtime it found is spoold's own (set by the StartRetry).
    func adopted(info: EntryInfo?, now: SpoolInstant, token: UInt64) -> CallAttempt {
        let mtime = info?.mtime ?? now
        return CallAttempt(file: file, number: start.number, channelId: channelId, lengthBefore: 0, mtimeBefore: mtime,
                           ownMtime: mtime, fileID: info?.fileID, started: started, token: token)
    }
}
