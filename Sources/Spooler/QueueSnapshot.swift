/// How many files wait and how many calls are up, sampled for metrics and `spoold status`.
public struct QueueSnapshot: Sendable, Equatable {
    /// Due now and waiting for a free slot, the rate limit, the backend, or their trunk's limits.
    public var due: Int
    /// Waiting for a due time in the future.
    public var scheduled: Int
    /// The earliest future due time, if any file waits for one.
    public var nextDue: SpoolInstant?
    /// Attempts in flight, adopted calls included.
    public var inFlight: Int
    /// Whether the backend takes calls (false while the AMI connection is down).
    public var backendReady: Bool
    /// Of `due`, the files held back because their trunk ([limit:PATTERN]) is at its limit.
    public var parked: Int
    /// The global limit on calls in flight in force (it changes on reload); 0 = no limit.
    public var maxConcurrent: Int
    /// Of `scheduled`, the files a calling window ([window:PATTERN]) holds until it opens.
    public var held: Int

    public init(due: Int, scheduled: Int, nextDue: SpoolInstant?, inFlight: Int, backendReady: Bool,
                parked: Int = 0, maxConcurrent: Int = 0, held: Int = 0) {
        self.due = due
        self.scheduled = scheduled
        self.nextDue = nextDue
        self.inFlight = inFlight
        self.backendReady = backendReady
        self.parked = parked
        self.maxConcurrent = maxConcurrent
        self.held = held
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

extension QueueEntry {
    /// How a file in each of the engine's states shows in `spoold queue` (nil: a departed or skipped name,
    /// not listed). What a state allows is the core's; how it is shown is decided here, beside the listing.
    /// `parkedDue`: each parked file's due time (`TrunkLimits.parkedDueTimes`).
    init?(_ name: String, _ entry: SpoolStateMachine.Entry, parkedDue: [String: SpoolInstant], now: SpoolInstant) {
        let scheduledDue = entry.stamp.isScheduled ? entry.stamp.due : nil
        let listed: (State, due: SpoolInstant?, SpoolStateMachine.FileSummary?)
        switch entry.state {
        case .scheduled: listed = (scheduledDue.map { $0 <= now } == true ? .due : .scheduled, scheduledDue, entry.memos.summary)
        case .due: listed = (.due, now, entry.memos.summary)
        case .parked: listed = (.parked, parkedDue[name], entry.memos.summary)
        case .held(let until): listed = (.held, until, entry.memos.summary)
        case .starting(let attempt), .dialling(let attempt):
            listed = (.inFlight(attempt: attempt.number), attempt.started, .init(attempt.file, made: attempt.number - 1))
        case .checking(let recovery): listed = (.checking, nil, .init(recovery.file, made: recovery.start.number - 1))
        case .ending(let attempt, _, _): listed = (.finishing, nil, .init(attempt.file, made: attempt.number))
        case .finishing, .keeping, .moving, .finishRetry, .cancelling: listed = (.finishing, scheduledDue, entry.memos.summary)
        case .departed, .skipped: return nil
        }
        self.init(name: name, state: listed.0, due: listed.due, summary: listed.2)
    }
}
