import CallFile

/// Every decision of the spool engine, as a pure value: events carry the facts the shell gathered (a watcher
/// change, a due file's bytes, a call's stage, a file-system step's result and errno, the time); each returns
/// the ordered actions the shell must carry out. No file system, backend, clock or logger is touched here, so
/// every rule is tested by feeding events. Results of steps done on the shell's loop (stat, read, record,
/// Status line) come back as the next event at once; results from elsewhere (call stages, the archive mover,
/// the recovery answer, the watcher) through its inbox. A file's `FileState` says which step its event answers.
public struct SpoolStateMachine: Sendable {
    /// Everything a file name can be in, one at a time (a name with no entry is unknown to the engine). The
    /// payloads are boxed (`indirect`), so that a state is one word.
    enum FileState: Equatable, Sendable {
        /// Waits in the schedule for its due time (its mtime, or a retry time).
        case scheduled
        /// Due, but a trunk it matches is at its limit: waits in that trunk's queue, no record written.
        case parked
        /// Due, but outside its calling window ([window:PATTERN]): waits in the schedule until the window
        /// opens at `until`, the mtime spoold gave it, and is decided again then. Nothing is written or counted.
        indirect case held(until: SpoolInstant)
        /// Taken off the schedule and being read and decided on (within one step of the loop).
        case due
        /// Its StartRetry record is being written; the call is placed only once it is in the file.
        indirect case starting(CallAttempt)
        /// An attempt is in flight (dialled, or adopted after a restart).
        indirect case dialling(CallAttempt)
        /// The attempt ended at `ended`; its records and finish are under way.
        indirect case ending(CallAttempt, CallAttempt.Outcome, ended: SpoolInstant)
        /// A StartRetry without end found at start-up or when due: the backend is asked whether its call is
        /// still up, then it is adopted or counted with AbortRetry.
        indirect case checking(InterruptedAttempt)
        /// Finished: the Status line, the delete or the move that cannot be one is under way.
        indirect case finishing(FinishPlan)
        /// AlwaysDelete: no and the mtime was moved during the call: spoold's records are being taken out,
        /// then it is due again at `due` as a fresh call.
        indirect case keeping(due: SpoolInstant, summary: String)
        /// Marked (Status line written); the move into outgoing_done runs off the loop. `reappeared`: a new
        /// file took the name meanwhile; `removed`: the watcher already reported the move.
        indirect case moving(FinishPlan, reappeared: Bool, removed: Bool)
        /// Finished, but a finishing step failed on the file system: retried when due (it waits in the
        /// schedule), never dialled again. `marked`: the file already holds its Status line.
        indirect case finishRetry(FinishPlan, marked: Bool)
        /// Left outgoing/ (archived or deleted); the watcher has not reported its removal yet, so changes
        /// reported meanwhile are spoold's own records and times.
        case departed
        /// A FIFO, socket, device or directory: never opened.
        case skipped
        /// `spoold cancel` of a waiting file: it is being read for its Archive option, then finished as
        /// Cancelled; `reply` answers the request.
        indirect case cancelling(reply: UInt64)
    }

    /// A file's channel and attempts, as the engine last read them.
    public struct FileSummary: Equatable, Sendable {
        public var channel: String, attemptsMade: Int, attemptsAllowed: Int
        public init(channel: String, attemptsMade: Int, attemptsAllowed: Int) {
            (self.channel, self.attemptsMade, self.attemptsAllowed) = (channel, attemptsMade, attemptsAllowed)
        }
        init(_ file: CallFile, made: Int) { self.init(channel: file.channel?.description ?? "", attemptsMade: made, attemptsAllowed: file.maxRetries + 1) }
    }

    /// One per file name: four words (the payloads and memos boxed), as the dictionary holds one for every file
    /// in outgoing/. `stamp`: its place in the schedule, so that the scheduler keeps no table of names.
    struct Entry: Sendable, Scheduled {
        var state: FileState
        var memos = FileMemos()
        var stamp = Scheduler.Stamp.none
    }

    /// What a watcher reports (translated by the shell from `SpoolChange`).
    public enum Change: Equatable, Sendable {
        case appeared(String), changed(String), removed(String), rescan([String], reason: RescanReason)
        public enum RescanReason: Sendable { case initial, overflow, directoryRecreated, poll }
    }

    /// A failed file-system step: the errno, its text for the log, and what `lstat` said right after.
    public struct StepFailure: Error, Equatable, Sendable, CustomStringConvertible {
        public var code: Int32, text: String, infoAfter: EntryInfo?
        public var description: String { text }
        /// ENOENT (errno values in Linux's numbering); `isGone`: and no file at the name after, so someone removed it.
        var isNoEntry: Bool { code == 2 }
        var isGone: Bool { code == 2 && infoAfter == nil }
        /// EPERM, EACCES or EROFS: spoold may not write to the file.
        var isRefused: Bool { code == 1 || code == 13 || code == 30 }
    }

    /// What reading a call file gave.
    public enum ReadResult: Equatable, Sendable {
        case read([UInt8], EntryInfo), gone, symlink, notRegular, tooLarge(Int64), unreadable(StepFailure)
    }

    /// A record written; `timesFailure`: its times could not be set. `infoAfter`: lstat after the write, when
    /// asked for or when the times failed.
    public struct Appended: Equatable, Sendable {
        public var lengthBefore: Int64, fileID: FileID, timesFailure: StepFailure?, infoAfter: EntryInfo?
    }

    /// What the backend says about taking calls, asked at each tick. `allowedAt`: when its own limits allow
    /// the next call (nil: not until it wakes the engine).
    public struct Gate: Equatable, Sendable {
        public var ready: Bool, allowedAt: SpoolInstant?
    }

    public enum Event: Sendable {
        /// Start-up: the interrupted archives finished, and the listing of outgoing/ with each name's lstat, in
        /// batches (so that no lstat of every name is held at once): `toCome` names follow; the last says ready.
        case started(recovered: [(staging: String, final: String, failure: StepFailure?)],
                     listing: Result<[(String, EntryInfo?)], StepFailure>, toCome: Int = 0)
        /// A watcher change; a reload of the limits; a stop (SIGTERM).
        case change(Change), limits(EngineLimits), stop
        /// The loop looks for due work; it ticks again until told to `.wait`.
        case tick(Gate)
        /// Results of the steps the shell performed on its loop.
        case statted(String, EntryInfo?), fileRead(String, ReadResult), recordWritten(String, Result<Appended, StepFailure>)
        case truncated(String, StepFailure?), deleted(String, StepFailure?), rewritten(String, StepFailure?), timesSet(String, StepFailure?)
        case marked(String, FileID?), movedUnmarked(String, Result<String, StepFailure>), outgoingReopened(Bool)
        case symlinkArchived(String, Result<String, StepFailure>)
        /// A call's stage (nil: the backend has nothing more to say about it); whether a recovered call is up.
        case callStage(String, token: UInt64, CallStage?), channelChecked(String, exists: Bool?)
        /// The archive mover's result: the name in outgoing_done, or nil when the name no longer held the file.
        case archived(String, Result<String?, StepFailure>)
        /// Queue control (`spoold cancel`, `spoold reschedule`): `reply` names the request the answer goes to.
        case cancel(String, reply: UInt64), reschedule(String, to: SpoolInstant, reply: UInt64)
        /// The result of `setDue` (the file's times set to its new due time).
        case dueSet(String, SpoolInstant, reply: UInt64, StepFailure?)
    }

    public enum LogLevel: String, Sendable, Equatable { case debug, notice, warning, error }

    /// The cases with more than a name and a word are `indirect` (boxed): an action stays three words, and
    /// a rescan of a large outgoing/ returns one `.stat` per file at once.
    public enum Action: Equatable, Sendable {
        /// A log line; a debug line (built only when wanted); the `spoold ready` line, printed whatever the
        /// log level (scripts wait for it); an event for observability.
        case log(LogLevel, String), logReady(String)
        indirect case debug(DebugLine), emit(EngineEvent)
        /// lstat; read the whole file (at most maxFileSize), kept open for its StartRetry when `forAppend`.
        case stat(String), read(String, forAppend: Bool)
        /// One write(2) of a retry record, then the times; through the descriptor the read left open if any.
        indirect case appendRecord(String, [UInt8], atime: SpoolInstant, mtime: SpoolInstant, statAfter: Bool)
        indirect case truncate(String, length: Int64, mtime: SpoolInstant)
        /// Set the file's times (a held file's mtime shows when it will be dialled).
        indirect case setMtime(String, SpoolInstant)
        /// Dial; follow an adopted call to its hangup; ask whether a recovered call is up.
        indirect case place(String, CallRequest, token: UInt64), follow(String, channelId: String, token: UInt64)
        indirect case askChannel(String, channelId: String)
        /// Archive step 1; step 2, handed to the mover off the loop (its result comes back as `.archived`).
        case markFinished(String, CallStatus)
        indirect case moveMarked(String, FileID)
        case moveUnmarked(String), delete(String), archiveSymlink(String), removeLeftover(String)
        /// Write these bytes to a temporary and rename it over the file.
        indirect case rewrite(String, [UInt8], mode: UInt32, mtime: SpoolInstant)
        case reopenOutgoing, reopenDoneDirectory
        /// The turn is over: sleep until then (nil: until news arrives). The engine has stopped.
        case wait(until: SpoolInstant?), stopped
        /// Queue control: answer a request; hang up a cancelled file's call; set a waiting file's atime and
        /// mtime to its new due time (its result comes back as `.dueSet`).
        indirect case reply(UInt64, ControlReply), hangUp(String, channelId: String)
        indirect case setDue(String, SpoolInstant, reply: UInt64)
    }

    /// A debug line's facts; `EngineWording.debug` builds its text only when the log level asks for it.
    public enum DebugLine: Equatable, Sendable {
        /// The attempt's number, the attempts allowed and the channel, worded only when the line is logged.
        case dialling(name: String, attempt: Int, of: Int, channel: Channel?, channelId: String)
        case parked(name: String, pattern: String, limits: String)
    }

    /// `uid`: spoold's, named in log lines about ownership. `backendWakesEngine`: the backend wakes the engine
    /// when it can take calls again (no look every backendRetryDelay). `emitsEvents`: someone reads them.
    public struct Settings: Sendable {
        public var outgoingPath: String, donePath: String, pid: Int, uid: UInt32, maxFileSize: Int, finishAtAnswer: Bool
        public var stepRetryDelay: Duration, backendRetryDelay: Duration, shutdownGrace: Duration
        public var backendWakesEngine = false, emitsEvents = true
    }

    static let rewriteSuffix = ".spoold-rewrite"
    /// More departed names than this means removals went unreported: forget them.
    static let departedLimit = 1 << 17

    let settings: Settings
    var files: [String: Entry] = [:]
    var scheduler = Scheduler()
    var limiter: CallLimiter
    var trunks: TrunkLimits
    /// Calling windows, max_lateness and retry rules per outcome (none: Asterisk's behaviour).
    var rules: CallingRules
    /// Future-dated files of the start-up listing still to be read for a Status line or an interrupted attempt.
    var sweep = StartupSweep()
    /// Attempts in flight, moves handed off, departed entries; the last token given to an attempt.
    var inFlight = 0, moving = 0, departed = 0, nextToken: UInt64 = 0
    /// Whether due files wait for a backend that cannot take calls (one line when that starts and ends).
    var backend = BackendWait()
    /// Due files started this turn (at most 256, so that ended calls and archives go on meanwhile).
    var turn = TurnBudget()
    /// Set by `.stop`: the calls in flight may end until then; then the moves under way; then nothing.
    var stopDeadline: SpoolInstant?, pastDeadline = false, stopped = false

    public init(settings: Settings, limits: EngineLimits) {
        self.settings = settings
        limiter = CallLimiter(maxConcurrent: limits.maxConcurrent, maxPerSecond: limits.maxCallsPerSecond)
        trunks = TrunkLimits(limits.trunks)
        rules = limits.callingRules
    }

    public var scheduledCount: Int { scheduler.count }
    var isStopping: Bool { stopDeadline != nil }
    public var limits: EngineLimits {
        EngineLimits(maxConcurrent: limiter.maxConcurrent, maxCallsPerSecond: limiter.maxPerSecond, trunks: trunks.rules,
                     callingRules: rules)
    }
    /// Files a calling window holds (O(files): for sampling, not per file).
    public var heldCount: Int { files.values.count { if case .held = $0.state { true } else { false } } }
    func state(of name: String) -> FileState? { files[name]?.state }

    /// Takes one event at `now`; returns what to do, in order.
    public mutating func handle(_ event: Event, now: SpoolInstant) -> [Action] {
        guard !stopped else { return QueueControl.afterStop(event) }
        switch event {
        case .started(let recovered, let listing, let toCome): return started(recovered, listing, toCome: toCome, now: now)
        case .change(let change): return stopDeadline == nil ? apply(change, now: now) : []
        case .tick(let gate): return tick(gate, now: now)
        case .statted(let name, let info): return statted(name, info, now: now)
        case .fileRead(let name, let result): return fileRead(name, result, now: now)
        case .recordWritten(let name, let result): return recordWritten(name, result, now: now)
        case .truncated(let name, let failure): return truncated(name, failure)
        case .timesSet(let name, let failure): return failure.map { timesRefused(name, $0) } ?? []
        case .callStage(let name, let token, let stage):
            return pastDeadline ? [] : callStage(name, token: token, stage, now: now)
        case .channelChecked(let name, let exists): return channelChecked(name, exists, now: now)
        case .marked(let name, let file): return marked(name, file)
        case .archived(let name, let result): return archived(name, result, now: now)
        case .movedUnmarked(let name, let result): return movedUnmarked(name, result, now: now)
        case .symlinkArchived(let name, let result): return symlinkArchived(name, result, now: now)
        case .deleted(let name, let failure): return deleted(name, failure, now: now)
        case .rewritten(let name, let failure): return rewritten(name, failure)
        case .outgoingReopened(let ok):
            return ok ? [.log(.notice, "\(settings.outgoingPath) was re-created; watching the new directory")]
                : [.log(.warning, "\(settings.outgoingPath) is gone; waiting for it to be created again")]
        case .limits(let limits): return apply(limits, now: now)
        case .stop: return stop(now: now)
        case .cancel(let name, let reply): return cancel(name, reply: reply, now: now)
        case .reschedule(let name, let due, let reply): return reschedule(name, to: due, reply: reply)
        case .dueSet(let name, let due, let reply, let failure): return dueSet(name, due, reply: reply, failure)
        }
    }

    // MARK: - Bookkeeping shared by the topics

    /// Sets a name's state, keeping its memos.
    mutating func set(_ name: String, _ state: FileState) { files[name, default: Entry(state: state)].state = state }  // one look-up

    /// Puts a name in the schedule at `due` in `state` (scheduled, held, a finish step to retry); one look-up.
    mutating func schedule(_ name: String, at due: SpoolInstant, as state: FileState = .scheduled) {
        Self.schedule(&files[name, default: Entry(state: state)], &scheduler, name, due, state)
    }

    private static func schedule(_ entry: inout Entry, _ scheduler: inout Scheduler, _ name: String, _ due: SpoolInstant, _ state: FileState) {
        (entry.state, _) = (state, scheduler.upsert(name, due: due, stamp: &entry.stamp))
    }

    /// Takes a name off the schedule, keeping its entry.
    mutating func unschedule(_ name: String) {
        if files[name]?.stamp.isScheduled == true { scheduler.remove(&files[name]!.stamp) }
    }

    /// When a scheduled name is due (nil when it is not in the schedule).
    func due(of name: String) -> SpoolInstant? { files[name].flatMap { $0.stamp.isScheduled ? $0.stamp.due : nil } }

    /// The file is gone: its schedule and memos are dropped.
    mutating func forget(_ name: String) -> [Action] {
        drop(name)
        return [.emit(.forgotten(file: name))]
    }

    /// Drops a name's entry and its schedule, keeping the count of departed ones.
    mutating func drop(_ name: String) {
        guard var entry = files.removeValue(forKey: name) else { return }
        scheduler.remove(&entry.stamp)
        if entry.state == .departed { departed -= 1 }
    }

    /// The file left outgoing/: until the watcher reports it, its changes are spoold's own.
    mutating func depart(_ name: String) {
        if departed >= Self.departedLimit { forgetDeparted() }
        departed += 1
        // One look-up: the entry is changed in place (it exists: the file was being finished).
        guard let index = files.index(forKey: name) else { files[name] = Entry(state: .departed); return }
        files.values[index].state = .departed
        files.values[index].memos.clearAttemptMemos()
    }

    /// Removals went unreported (too many departed names, or a rescan will tell): the departed are forgotten.
    mutating func forgetDeparted() {
        files = files.filter { $0.value.state != .departed || $0.value.stamp.isScheduled }  // one scheduled would stay in the count
        departed = 0
    }

    /// Changes a name's memos in place (one look-up), if the name has an entry.
    mutating func changeMemos(_ name: String, _ change: (inout FileMemos) -> Void) {
        if let index = files.index(forKey: name) { change(&files.values[index].memos) }
    }

    /// Watcher events about a busy file (spoold's own appends among them) are ignored until it is settled.
    func isBusy(_ name: String) -> Bool { Self.isBusy(files[name]?.state) }

    static func isBusy(_ state: FileState?) -> Bool {
        switch state {
        case nil, .scheduled?, .parked?, .held?, .due?, .departed?, .skipped?: false
        default: true
        }
    }

    var ownership: String { "spoold runs as uid \(settings.uid)" }

    static func number(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(value) }
}
