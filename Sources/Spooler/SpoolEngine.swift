#if canImport(Glibc)
import Glibc
#endif
import CallFile
import Logging
import SpoolWatcher
import Synchronization

/// The spool engine: files reported by the watcher are scheduled by mtime, re-checked when due, dialled
/// through the backend within the limits, retried by Asterisk's rules and finished with their Status.
///
/// All file-system steps of one file run on this actor, one at a time; only the calls themselves run
/// outside it: the backend reports their stages into `callReports`, which the loop takes in batches. A
/// file is "busy" while an attempt
/// or a recovery check is under way: watcher events about it (spoold's own appends among them) are
/// ignored until the attempt has ended and the file has been re-stat'ed.
public actor SpoolEngine {
    public nonisolated let configuration: EngineConfiguration
    let backend: any CallBackend
    let clock: any SpoolClock
    let logger: Logger
    var outgoing: SpoolDirectory
    let archiver: Archiver
    let finisher: Finisher
    let changes: AsyncStream<[SpoolChange]>
    /// What happens to each file, in batches (one per turn of the loop).
    let events: AsyncStream<[EngineEvent]>.Continuation?

    var scheduler = Scheduler()
    var limiter: CallLimiter
    /// Per-trunk limits, and the due files parked while their trunk is full (SpoolEngine+TrunkLimits).
    var trunks: TrunkLimits
    /// Attempts in flight (including adopted calls), by file name.
    var attempts: [String: Attempt] = [:]
    /// Files whose in-flight StartRetry is being checked with the backend.
    var recovering: Set<String> = []
    /// Staged archives that the finisher completes off the actor, until `finished` has the result.
    var finishing: Set<String> = []
    /// Files spoold moved out of `outgoing/` (staged or deleted) whose removal the watcher has not reported
    /// yet: a change reported before that removal is spoold's own record or times (re-stat'ing a name that
    /// is gone costs a slow directory lookup). Cleared by each rescan, bounded in case removals go unreported.
    var departing: Set<String> = []
    /// Finishing files whose name was taken by a new file meanwhile: re-checked once the finisher is done.
    var reappeared: Set<String> = []
    /// Finished files whose finishing step failed on the file system; retried when due, never re-dialled.
    /// `marked`: the Status line is already in the file, so it is not written twice.
    var unfinished: [String: (status: CallStatus, summary: String, rule: FinishRule, marked: Bool)] = [:]
    /// Attempts known to be over for files whose records or times spoold cannot write (contract §2.8).
    var rememberedAttempts: [String: Int] = [:]
    /// Files whose mtime spoold cannot set: the mtime they keep, so that it is not mistaken for a touch.
    var stuckMtime: [String: SpoolInstant] = [:]
    /// How often in a row a file refused its StartRetry record for lack of permission.
    var refusedRecordWrites: [String: Int] = [:]
    /// Future-dated files at start-up still to be read for an attempt a crash left in flight.
    var sweep: [String] = []
    var warnedSkipped: Set<String> = []
    var loopWake: SpoolInstant?
    var loopWaitsForSlot = false
    var waitingForBackend = false
    /// The backend wakes the loop when it can take calls again (`CallBackend.wakeWhenReady`), so the loop
    /// does not look again every `backendRetryDelay`.
    var backendWakesLoop = false
    /// Set when `run` returns: from then on the engine touches no file.
    var stopped = false
    let doorbell = Doorbell()
    /// The backend's news about calls in flight, taken by the loop.
    let callReports = CallReports()
    /// Tells one attempt's reports from those of the file's earlier attempts.
    var nextAttemptToken: UInt64 = 0
    /// Archives staged in this turn of the loop, handed to the finisher together at its end.
    var stagedArchives: [Finisher.Step] = []
    /// Events of this turn of the loop, yielded together at its end as one batch: one element per turn
    /// for each reader, where one per event cost a wake-up and a generic stream step each.
    var pendingEvents: [EngineEvent] = []
    /// True while the loop runs a turn: work queued meanwhile is handed over at its end without a ring.
    var inLoopTurn = false
    /// At most this many due files are started per turn of the loop, so that ended calls and their
    /// archives go on while a large burst is being dialled.
    static let filesPerTurn = 256
    private nonisolated let stopping = StopFlag()

    struct Attempt {
        var file: CallFile
        var number: Int
        var channelId: String
        /// For taking the StartRetry back out when the call never reached the PBX.
        var lengthBefore: Int64
        var mtimeBefore: SpoolInstant
        /// The mtime spoold gave the file with StartRetry: any other future mtime at the end was set by
        /// someone else (the AlwaysDelete: no reuse).
        var ownMtime: SpoolInstant
        /// The file the attempt belongs to: if the name comes to name another file (replaced by rename
        /// while the call was in flight), the new file is a new call and gets none of this attempt's records.
        var fileID: FileID?
        /// When the attempt was dialled, for the attempt's report.
        var started: SpoolInstant
        /// Matches the backend's reports to this attempt.
        var token: UInt64
        var answered = false

        /// Takes the call's next stage; the attempt's outcome once it is over. An adopted call's report
        /// says `answered` too (only if it was), so a call adopted while ringing that then ends unanswered
        /// is a failed attempt, never Completed.
        mutating func take(_ stage: CallStage?, finishAtAnswer: Bool) -> Outcome? {
            switch stage {
            case nil:
                return answered ? .completed : .failed(reason: 0, text: "the backend gave no result")
            case .placed?:
                return nil
            case .answered?:
                answered = true
                return finishAtAnswer ? .completed : nil
            case .hungUp?:
                return answered ? .completed : .failed(reason: 0, text: "hung up before answer")
            case .failed(let reason, let text)?:
                return .failed(reason: reason, text: text)
            case .rejected(let message)?:
                return .rejected(message)
            case .notPlaced(let message)?:
                return .notPlaced(message)
            }
        }
    }

    /// The two options that decide what finishing does with a file.
    struct FinishRule {
        var archive: Bool
        var alwaysDelete: Bool

        init(archive: Bool, alwaysDelete: Bool) {
            self.archive = archive
            self.alwaysDelete = alwaysDelete
        }

        init(_ file: CallFile) { self.init(archive: file.archive, alwaysDelete: file.alwaysDelete) }
    }

    enum Outcome: Equatable {
        case completed
        case failed(reason: Int, text: String)
        case rejected(String)
        case notPlaced(String)
    }

    public init(
        configuration: EngineConfiguration,
        backend: any CallBackend,
        clock: any SpoolClock = SystemSpoolClock(),
        logger: Logger,
        changes: AsyncStream<[SpoolChange]>,
        events: AsyncStream<[EngineEvent]>.Continuation? = nil
    ) throws(SystemError) {
        self.configuration = configuration
        self.backend = backend
        self.clock = clock
        self.logger = logger
        self.changes = changes
        self.events = events
        self.outgoing = try SpoolDirectory(path: configuration.outgoingPath, create: true, sync: configuration.diskSync)
        self.archiver = Archiver(outgoing: outgoing, donePath: configuration.donePath)
        self.finisher = Finisher(archiver: archiver)
        self.limiter = CallLimiter(maxConcurrent: configuration.maxConcurrent, maxPerSecond: configuration.maxCallsPerSecond)
        self.trunks = TrunkLimits(configuration.trunkLimits)
    }

    /// Runs until the task is cancelled (SIGTERM/SIGINT through service-lifecycle), then stops starting
    /// attempts and lets calls in flight end, up to `shutdownGrace`.
    public func run() async {
        backendWakesLoop = backend.wakeWhenReady { [doorbell] in doorbell.ring() }
        recoverInterruptedSteps()
        scanInitially()
        let changes = self.changes
        let watching = Task { [weak self] in
            for await batch in changes {
                guard let self else { return }
                await self.apply(batch)
            }
        }
        await withTaskCancellationHandler {
            await mainLoop()
        } onCancel: { [stopping, doorbell] in
            stopping.set()
            doorbell.ring()
        }
        watching.cancel()
        // The drain must not inherit the cancellation: it waits on purpose.
        await Task { await self.drain() }.value
    }

    /// Stops the engine like a SIGTERM would (for callers that hold no task handle).
    public nonisolated func stop() {
        stopping.set()
        doorbell.ring()
    }

    // MARK: - Start-up

    /// Finishes archives a crash interrupted and removes rewrite temporaries (whose originals are intact).
    func recoverInterruptedSteps() {
        for (staging, final, error) in archiver.recoverStaged() {
            if let error {
                logger.error("[\(staging)] could not finish an interrupted archive: \(error); it stays in \(configuration.donePath)")
            } else {
                logger.notice("[\(final)] finished an archive interrupted by a stop or crash: outgoing_done/\(final)")
            }
        }
        for name in (try? outgoing.names()) ?? [] where name.hasPrefix(".") && name.hasSuffix(Self.rewriteSuffix) {
            try? outgoing.unlink(name)
        }
    }

    func scanInitially() {
        let names: [String]
        do {
            names = try outgoing.names()
        } catch {
            logger.error("cannot list \(configuration.outgoingPath): \(error)")
            names = []
        }
        let now = clock.now()
        scheduler.reserveCapacity(names.count)
        for name in names { note(name) }
        sweep = names.filter { (scheduler.due(of: $0) ?? now) > now }
        // Scripts and benchmarks wait for this line: it is printed whatever the log level. The level is
        // set back afterwards because a handler that is a class is shared with `logger`.
        var readyLogger = logger
        let level = logger.logLevel
        if level > .notice { readyLogger.logLevel = .notice }
        readyLogger.notice("spoold ready: \(scheduler.count) call files scheduled in \(configuration.outgoingPath) (pid \(configuration.pid), max \(describe(configuration.maxConcurrent)) calls in flight, max \(describe(configuration.maxCallsPerSecond)) calls per second)")
        readyLogger.logLevel = level
        emit(.ready(scheduled: scheduler.count))
    }

    private func describe(_ limit: Int) -> String { limit > 0 ? String(limit) : "unlimited" }
    private func describe(_ limit: Double) -> String {
        limit <= 0 ? "unlimited" : limit == limit.rounded() ? String(Int(limit)) : String(limit)
    }

    // MARK: - Watcher changes

    func apply(_ batch: [SpoolChange]) {
        for change in batch {
            switch change {
            case .appeared(let name):
                departing.remove(name)
                if finishing.contains(name) { reappeared.insert(name) }
                note(name)
            case .changed(let name):
                // spoold's own record and times, reported after the file was handed to the finisher.
                if departing.contains(name) { continue }
                note(name)
            case .removed(let name):
                departing.remove(name)
                if isBusy(name) { continue }
                if scheduler.contains(name) {
                    scheduler.remove(name)
                    forget(name)
                }
            case .rescan(let names, let reason):
                if reason == .directoryRecreated { reopenOutgoing() }
                departing.removeAll()  // removals may have been lost with the events; a listing tells
                for name in names { note(name) }
                // The watcher's first listing follows spoold's own by moments: a scheduled name missing
                // from it is re-checked when it comes due anyway, so it needs no set of 100,000 names.
                guard reason != .initial else { continue }
                let present = Set(names)
                for name in scheduler.names where !present.contains(name) && !isBusy(name) {
                    note(name)  // re-stat: a rescan can race with a rename in
                }
            }
        }
    }

    /// outgoing/ was deleted and made again: the old descriptor points at the deleted directory.
    func reopenOutgoing() {
        guard let reopened = try? SpoolDirectory(path: configuration.outgoingPath, create: false, sync: configuration.diskSync) else {
            logger.warning("\(configuration.outgoingPath) is gone; waiting for it to be created again")
            return
        }
        outgoing = reopened
        archiver.outgoing = reopened
        logger.notice("\(configuration.outgoingPath) was re-created; watching the new directory")
    }

    func isBusy(_ name: String) -> Bool {
        attempts[name] != nil || recovering.contains(name) || unfinished[name] != nil || finishing.contains(name)
    }

    /// Re-stats a name and (re)schedules it by its mtime, or forgets it when it is gone.
    func note(_ name: String) {
        guard !name.hasPrefix("."), !name.utf8.contains(UInt8(ascii: "/")), !isBusy(name) else { return }
        guard let info = outgoing.info(name) else {
            if scheduler.contains(name) { scheduler.remove(name); forget(name) }
            return
        }
        switch info.kind {
        case .regular:
            if let stuck = stuckMtime[name], stuck == info.mtime { return }
            stuckMtime[name] = nil
            schedule(name, at: info.mtime)
        case .symlink:
            schedule(name, at: clock.now())
        case .other(let kind):
            scheduler.remove(name)
            if warnedSkipped.insert(name).inserted {
                logger.warning("[\(name)] skipped: a \(kind) is not a call file; spoold never opens it")
                emit(.skipped(file: name, kind: kind))
            }
        }
    }

    func schedule(_ name: String, at due: SpoolInstant) {
        guard scheduler.upsert(name, due: due) else { return }
        if let wake = loopWake, due >= wake { return }
        doorbell.ring()
    }

    func forget(_ name: String) {
        rememberedAttempts[name] = nil
        refusedRecordWrites[name] = nil
        stuckMtime[name] = nil
        warnedSkipped.remove(name)
        emit(.forgotten(file: name))
    }

    // MARK: - The loop

    func mainLoop() async {
        while !stopping.isSet {
            inLoopTurn = true
            takeCallReports()
            let now = clock.now()
            startDueWork(now: now)
            continueSweep()
            handStagedArchivesOver()
            flushEvents()
            inLoopTurn = false
            let (scheduledWake, waitsForSlot) = nextWake(now: clock.now())
            let wake = earliest(scheduledWake, trunkWake(now: clock.now()))
            loopWake = wake
            loopWaitsForSlot = waitsForSlot
            if stopping.isSet { break }
            await doorbell.wait(until: wake, clock: clock)
            loopWake = nil
            loopWaitsForSlot = false
        }
    }

    /// Takes due files in due order while the limits allow a new call.
    func startDueWork(now: SpoolInstant) {
        guard backend.isReady else {
            if !waitingForBackend, let due = scheduler.nextDue(), due <= now {
                waitingForBackend = true
                let first = scheduler.firstDue() ?? "?"
                logger.warning("[\(first)] due, but the backend cannot take calls (no AMI connection, or Asterisk is stopping); due files wait in due order, nothing is counted")
            }
            return
        }
        if waitingForBackend {
            waitingForBackend = false
            logger.notice("the backend is ready again; placing the calls that are due")
        }
        var now = now
        var started = 0
        // Files parked behind a full trunk come back in due order among the scheduled ones.
        while !stopping.isSet, limiter.canStart(now: now), backendAllowsCall(now: now), let name = takeDue(now: now) {
            process(name, now: now)
            now = clock.now()
            started += 1
            if started == Self.filesPerTurn {
                doorbell.ring()  // the rest in the next turn, after the calls that ended meanwhile
                return
            }
        }
    }

    func nextWake(now: SpoolInstant) -> (SpoolInstant?, waitsForSlot: Bool) {
        guard let due = scheduler.nextDue() else { return (sweep.isEmpty ? nil : now, false) }
        if due > now { return (sweep.isEmpty ? due : now, false) }
        if !backend.isReady { return (backendWakesLoop ? nil : now.adding(configuration.backendRetryDelay), false) }
        if !limiter.hasFreeSlot { return (nil, true) }
        // nil: the backend's own limits are full and it wakes the loop when a call ends.
        guard let backendAllowed = backend.nextCallAllowed(now: now) else { return (nil, false) }
        return (max(limiter.nextAllowed(now: now), backendAllowed), false)
    }

    /// The backend's own limits (per-server ones in the AMI pool) allow a call at `now`.
    func backendAllowsCall(now: SpoolInstant) -> Bool {
        guard let allowed = backend.nextCallAllowed(now: now) else { return false }
        return allowed <= now
    }

    func continueSweep() {
        guard !sweep.isEmpty else { return }
        let batch = sweep.suffix(256)
        sweep.removeLast(batch.count)
        for name in batch where scheduler.contains(name) {
            guard case .success(let (bytes, info)) = outgoing.readCallFile(name, limit: configuration.maxFileSize) else { continue }
            let parsed = CallFileParser.parse(bytes, path: configuration.outgoingPath + "/" + name)
            // Finished but not yet archived at the last stop (its mtime is spoold's own, in the future).
            if let status = parsed.file.finishedStatus {
                scheduler.remove(name)
                archiveMarked(name, status: status, file: info.fileID)
                continue
            }
            guard parsed.isRunnable, let start = parsed.file.inFlightStart else { continue }
            scheduler.remove(name)
            recover(name, file: parsed.file, start: start)
        }
    }

    // MARK: - A due file

    func process(_ name: String, now: SpoolInstant) {
        if let pending = unfinished.removeValue(forKey: name) {
            guard !pending.marked else {
                guard let info = outgoing.info(name) else { return forget(name) }
                return finish(name, rule: pending.rule, status: pending.status, summary: pending.summary, marked: info.fileID)
            }
            finish(name, rule: pending.rule, status: pending.status, summary: pending.summary)
            return
        }
        // Opened at once, without an lstat first: O_NOFOLLOW refuses a symlink, fstat tells the rest, and the
        // StartRetry record goes through the same descriptor.
        let opened: SpoolDirectory.OpenCallFile
        switch outgoing.openCallFile(name, limit: configuration.maxFileSize, forAppend: true) {
        case .success(let file):
            opened = file
        case .failure(let failure):
            return handleReadFailure(name, failure)
        }
        defer { opened.close() }
        let info = opened.info
        let parsed = CallFileParser.parse(opened.bytes, path: configuration.outgoingPath + "/" + name)
        if info.mtime > now, stuckMtime[name] != info.mtime, parsed.file.finishedStatus == nil {
            // Touched to a later time while it waited: it moves (contract §2.4).
            return schedule(name, at: info.mtime)
        }
        if let rejection = parsed.rejection {
            logger.error("[\(name)] refused: \(rejection.detail); \(rejection.consequence)")
            return moveAside(name, reason: rejection.reason)
        }
        let file = parsed.file
        if let status = file.finishedStatus { return archiveMarked(name, status: status, file: info.fileID) }
        if let invalid = parsed.invalidReason {
            return finishInvalid(name, file: file, reason: invalid, now: now)
        }
        let finished = max(file.finishedAttempts, rememberedAttempts[name] ?? 0)
        if let start = file.inFlightStart, start.number > (rememberedAttempts[name] ?? 0) {
            return recover(name, file: file, start: start)
        }
        if finished > file.maxRetries {
            logger.notice("[\(name)] expired: \(finished) of \(file.maxRetries + 1) attempts already made (MaxRetries \(file.maxRetries)); not dialled")
            return finish(name, rule: FinishRule(file), status: .expired, summary: "Expired after \(finished) attempts")
        }
        if parkIfTrunkFull(name, file: file, due: min(info.mtime, now), now: now) { return }
        startAttempt(name, file: file, number: finished + 1, mtimeBefore: info.mtime, now: now, opened: opened)
    }

    /// A file a stop caught between its Status line and its move into outgoing_done: finished already.
    func archiveMarked(_ name: String, status: CallStatus, file: FileID) {
        logger.notice("[\(name)] already finished: its Status: \(status.rawValue) line follows its last attempt (a stop came between the Status line and the archive, or the file was copied back from outgoing_done); archiving it, not dialled. To dial such a file again, remove its Status line")
        finish(name, rule: FinishRule(archive: true, alwaysDelete: true), status: status,
               summary: "\(status.rawValue) before the last stop", marked: file)
    }

    func handleReadFailure(_ name: String, _ failure: ReadFailure) {
        switch failure {
        case .gone:
            forget(name)
        case .symlink:
            moveSymlinkAside(name)
        case .notRegular:
            note(name)
        case .tooLarge(let size):
            logger.error("[\(name)] refused: \(size) bytes is too large for a call file (limit \(configuration.maxFileSize) bytes)")
            moveAside(name, reason: "too large")
        case .unreadable(let error, let info):
            let ownership = info.map { ", \($0.ownership)" } ?? ""
            logger.error("[\(name)] cannot read the call file: \(error)\(ownership); spoold runs as uid \(currentUID()). Moving it aside instead of deleting it")
            moveAside(name, reason: "unreadable")
        }
    }

    // MARK: - One attempt

    func startAttempt(_ name: String, file: CallFile, number: Int, mtimeBefore: SpoolInstant, now: SpoolInstant,
                      opened: SpoolDirectory.OpenCallFile) {
        let retry = file.retryTime
        let startEpoch = now.seconds + Int64(retry)
        let record = RetryRecord(kind: .start, pid: configuration.pid, number: number, epoch: startEpoch, line: nil)
        let ownMtime = now.adding(seconds: 2 * retry)
        let appended: SpoolDirectory.AppendResult
        do {
            appended = try outgoing.append(record.bytes, to: opened, atime: now.adding(seconds: retry), mtime: ownMtime)
        } catch {
            if error.code == ENOENT { return forget(name) }
            if [EACCES, EPERM, EROFS].contains(error.code) {
                let refusals = refusedRecordWrites[name, default: 0] + 1
                refusedRecordWrites[name] = refusals
                if refusals >= Self.recordWriteRefusalLimit {
                    refusedRecordWrites[name] = nil
                    let owner = outgoing.info(name)?.ownership ?? "owner unknown"
                    logger.error("[\(name)] cannot write retry records (\(error); \(owner); spoold runs as uid \(currentUID())), \(refusals) times in a row; never dialled. Fix: chown the call files to the spoold user, or make them writable by it")
                    return moveAside(name, reason: "retry records cannot be written")
                }
            }
            return stepFailed(name, step: "write the StartRetry record", error: error, info: outgoing.info(name), now: now)
        }
        refusedRecordWrites[name] = nil
        if let timesError = appended.timesError { noteStuckTimes(name, error: timesError, mtime: mtimeBefore) }
        let channelId = ChannelID.make(fileName: name, startEpoch: startEpoch, attempt: number)
        guard let request = CallRequest(file: file, attempt: number, channelId: channelId) else { return }
        limiter.start(now: now)
        trunks.start(name, channel: request.channel, now: now)
        let token = newAttemptToken()
        attempts[name] = Attempt(file: file, number: number, channelId: channelId, lengthBefore: appended.lengthBefore,
                                 mtimeBefore: mtimeBefore, ownMtime: ownMtime, fileID: appended.fileID, started: now,
                                 token: token)
        logger.debug("[\(name)] attempt \(number) of \(file.maxRetries + 1) on \(request.channel): dialling (ChannelId \(channelId))")
        emit(.attemptStarted(file: name, attempt: number, channelId: channelId))
        emit(.attemptDialled(file: name, attempt: number, latency: now.duration(since: mtimeBefore)))
        backend.place(request, report: reporter(for: name, token: token))
    }

    func newAttemptToken() -> UInt64 {
        nextAttemptToken += 1
        return nextAttemptToken
    }

    /// Where the backend reports one attempt's call: into `callReports`, waking the loop for the first.
    func reporter(for name: String, token: UInt64) -> CallReport {
        let (reports, doorbell) = (callReports, doorbell)
        return { stage in
            if reports.add(.init(name: name, token: token, stage: stage)) { doorbell.ring() }
        }
    }

    /// The backend's news about calls in flight, in the order it came: answers are noted, ended
    /// attempts go on to their records and finishing.
    func takeCallReports() {
        for report in callReports.take() {
            guard var attempt = attempts[report.name], attempt.token == report.token else { continue }
            if let outcome = attempt.take(report.stage, finishAtAnswer: configuration.finishAtAnswer) {
                attemptEnded(report.name, number: attempt.number, outcome: outcome)
            } else {
                attempts[report.name] = attempt
            }
        }
    }

    func attemptEnded(_ name: String, number: Int, outcome: Outcome) {
        // After the drain this engine has handed over: the file keeps its StartRetry for the next start.
        guard !stopped else { return }
        limiter.finish()
        trunks.finish(name)
        if loopWaitsForSlot || trunks.hasParked { doorbell.ring() }
        guard let attempt = attempts.removeValue(forKey: name) else { return }
        let file = attempt.file
        let now = clock.now()
        reportEnd(of: attempt, name, outcome: outcome, now: now)
        let channel = file.channel?.description ?? "?"
        let of = "attempt \(number) of \(file.maxRetries + 1) on \(channel)"
        if let current = outgoing.info(name), let dialled = attempt.fileID, current.fileID != dialled {
            return replacedInFlight(name, attempt: of, outcome: outcome)
        }
        switch outcome {
        case .completed:
            logger.notice("[\(name)] \(of): answered\(configuration.finishAtAnswer ? "" : " and hung up")")
            finish(name, rule: FinishRule(file), status: .completed, summary: "Completed on attempt \(number) of \(file.maxRetries + 1)",
                   ownMtime: attempt.ownMtime)
        case .rejected(let message):
            logger.error("[\(name)] \(of): refused by the PBX: \(message); not retried")
            finish(name, rule: FinishRule(file), status: .failed, summary: "Failed (\(message))", ownMtime: attempt.ownMtime)
        case .notPlaced(let message):
            // Never reached the PBX: take the StartRetry back out, as if the file had not been touched.
            logger.warning("[\(name)] \(of): not placed (\(message)); nothing counted, the file waits for the backend")
            do {
                try outgoing.truncate(name, to: attempt.lengthBefore, mtime: attempt.mtimeBefore)
            } catch {
                logger.error("[\(name)] cannot take back the StartRetry record: \(error); the attempt will count as aborted")
            }
            emit(.notPlaced(file: name))
            schedule(name, at: now.adding(configuration.backendRetryDelay))
        case .failed(let reason, let text):
            let cause = "failed, reason \(reason) (\(text))"
            if number >= file.maxRetries + 1 {
                logger.notice("[\(name)] \(of): \(cause); no attempts left")
                finish(name, rule: FinishRule(file), status: .expired, summary: "Expired after \(number) attempts", ownMtime: attempt.ownMtime)
                return
            }
            let due = now.adding(seconds: file.retryTime)
            rememberedAttempts[name] = number
            let record = RetryRecord(kind: .end, pid: configuration.pid, number: number, epoch: now.seconds, line: nil)
            do {
                let appended = try outgoing.append(record.bytes, to: name, atime: due, mtime: due)
                if let timesError = appended.timesError { noteStuckTimes(name, error: timesError, mtime: attempt.mtimeBefore) }
            } catch {
                if error.code == ENOENT {
                    logger.notice("[\(name)] \(of): \(cause); the file was removed meanwhile, so nothing more is done")
                    return forget(name)
                }
                logger.error("[\(name)] cannot write the EndRetry record: \(error); spoold keeps the count (\(number) attempts) in memory")
            }
            logger.notice("[\(name)] \(of): \(cause); next attempt at \(due.timeOfDay)")
            emit(.retryScheduled(file: name, attempt: number, reason: reason, nextDue: due))
            schedule(name, at: due)
        }
    }

    /// The name was given to another file while the call was in flight: the call's result is logged, and
    /// the new file is left untouched and scheduled by its own mtime as a new call (nothing is lost).
    func replacedInFlight(_ name: String, attempt: String, outcome: Outcome) {
        let result: String
        switch outcome {
        case .completed: result = "answered"
        case .failed(let reason, let text): result = "failed, reason \(reason) (\(text))"
        case .rejected(let message): result = "refused by the PBX: \(message)"
        case .notPlaced(let message): result = "not placed (\(message))"
        }
        logger.warning("[\(name)] \(attempt): \(result); the file was replaced while its call was in flight, so this result goes into no file and the new file is a new call, due at its own mtime")
        rememberedAttempts[name] = nil
        refusedRecordWrites[name] = nil
        stuckMtime[name] = nil
        emit(.replacedInFlight(file: name))
        note(name)
    }

    func noteStuckTimes(_ name: String, error: SystemError, mtime: SpoolInstant) {
        if stuckMtime[name] == nil {
            let owner = outgoing.info(name)?.ownership ?? "owner unknown"
            logger.warning("[\(name)] cannot set the file's times (\(error); \(owner)); spoold runs as uid \(currentUID()) and keeps the retry count in memory. Fix: make the spoold user own call files (chown, or create them as that user)")
        }
        stuckMtime[name] = outgoing.info(name)?.mtime ?? mtime
    }

    func stepFailed(_ name: String, step: String, error: SystemError, info: EntryInfo?, now: SpoolInstant) {
        let retryAt = now.adding(configuration.stepRetryDelay)
        let ownership = info.map { "; \($0.ownership), spoold runs as uid \(currentUID())" } ?? ""
        logger.error("[\(name)] cannot \(step): \(error)\(ownership); no call placed, trying again at \(retryAt.timeOfDay)")
        emit(.stepFailed(file: name, step: step))
        schedule(name, at: retryAt)
    }

    // MARK: - Recovery of an attempt a stop or crash left in flight

    /// The file holds a StartRetry with no end. The pid is not consulted: if the call the record stands
    /// for is still up, follow it; otherwise count it with AbortRetry and go on with the retry rules.
    func recover(_ name: String, file: CallFile, start: RetryRecord) {
        let channelId = ChannelID.make(fileName: name, startEpoch: start.epoch, attempt: start.number)
        recovering.insert(name)
        let backend = self.backend
        Task.detached {
            let exists = await backend.channelExists(channelId)
            await self.recoveryChecked(name, file: file, start: start, channelId: channelId, exists: exists)
        }
    }

    func recoveryChecked(_ name: String, file: CallFile, start: RetryRecord, channelId: String, exists: Bool?) {
        guard !stopped else { return }
        recovering.remove(name)
        let now = clock.now()
        switch exists {
        case nil:
            logger.warning("[\(name)] attempt \(start.number) was in flight at the last stop; the backend cannot say yet whether its call (ChannelId \(channelId)) is up, asking again shortly")
            schedule(name, at: now.adding(configuration.backendRetryDelay))
        case true?:
            logger.notice("[\(name)] attempt \(start.number) was in flight at the last stop and its call is still up (ChannelId \(channelId)): following it to its hangup")
            let info = outgoing.info(name)
            let mtime = info?.mtime ?? now
            let token = newAttemptToken()
            attempts[name] = Attempt(file: file, number: start.number, channelId: channelId, lengthBefore: 0,
                                     mtimeBefore: mtime, ownMtime: mtime, fileID: info?.fileID,
                                     started: Self.startTime(of: start, file), token: token)
            limiter.adopt()
            trunks.adopt(name, channel: file.channel?.description ?? "")
            emit(.adopted(file: name, channelId: channelId))
            forward(backend.awaitHangup(of: channelId), to: reporter(for: name, token: token))
        case false?:
            let number = max(file.finishedAttempts, rememberedAttempts[name] ?? 0) + 1
            let due = now.adding(seconds: file.retryTime)
            let record = RetryRecord(kind: .abort, pid: configuration.pid, number: number, epoch: now.seconds, line: nil)
            do {
                _ = try outgoing.append(record.bytes, to: name, atime: due, mtime: due)
            } catch {
                if error.code == ENOENT { return forget(name) }
                logger.error("[\(name)] cannot write the AbortRetry record: \(error); spoold keeps the count in memory")
            }
            rememberedAttempts[name] = number
            reportAborted(name, file: file, start: start, number: number, now: now)
            if number > file.maxRetries {
                logger.notice("[\(name)] attempt \(number) of \(file.maxRetries + 1) was cut short by the last stop (its call is gone); no attempts left")
                finish(name, rule: FinishRule(file), status: .expired, summary: "Expired after \(number) attempts")
            } else {
                logger.notice("[\(name)] attempt \(number) of \(file.maxRetries + 1) was cut short by the last stop (its call is gone); counted as aborted, next attempt at \(due.timeOfDay)")
                schedule(name, at: due)
            }
        }
    }

    // MARK: - Finishing

    static let rewriteSuffix = ".spoold-rewrite"
    /// More departing names than this means removals went unreported: forget them (a stale change then
    /// costs one re-stat, nothing more).
    static let departingLimit = 1 << 17
    /// A file that refuses spoold's records this many times in a row (permission, read-only) is failed
    /// and moved aside: never dialled without its record, and never retried for ever (contract §2.8, §5).
    static let recordWriteRefusalLimit = 3

    /// Applies the AlwaysDelete rule, then archives or deletes. `ownMtime` is the mtime spoold set with
    /// its last StartRetry, so that only someone else's future mtime keeps the file (contract §2.3).
    /// `marked`: the file already holds its Status line (a finish that failed, or was cut short by a stop).
    func finish(_ name: String, rule: FinishRule, status: CallStatus, summary: String, ownMtime: SpoolInstant? = nil,
                marked: FileID? = nil) {
        let now = clock.now()
        if marked == nil, !rule.alwaysDelete, let info = outgoing.info(name), info.kind == .regular, info.mtime > now,
           info.mtime != ownMtime {
            return keepForReuse(name, due: info.mtime, summary: summary)
        }
        do {
            if rule.archive {
                // Step 1 here, where the attempt ended: from the Status line on, the file is finished. The
                // move into outgoing_done/ runs on the finisher's queue while other files go on; the name is
                // busy until `finished`.
                if let file = marked ?? archiver.markFinished(name, status: status) {
                    finishing.insert(name)
                    noteDeparting(name)
                    // A finish outside the loop's turn (a recovery check) needs a turn to be handed over.
                    if stagedArchives.isEmpty, !inLoopTurn { doorbell.ring() }
                    stagedArchives.append(Finisher.Step(name: name, file: file, status: status, summary: summary))
                    return
                }
                let archived = try archiver.moveUnmarked(name)
                noteDeparting(name)
                logger.notice("[\(name)] finished: \(summary); its Status line cannot be written, so it was moved to outgoing_done/\(archived)")
                emit(.finished(file: name, status: status, disposition: .archived(archived), summary: summary))
                rememberedAttempts[name] = nil
                stuckMtime[name] = nil
                return
            }
            try archiver.delete(name)
            noteDeparting(name)
            logger.notice("[\(name)] finished: \(summary); deleted")
            emit(.finished(file: name, status: status, disposition: .deleted, summary: summary))
            rememberedAttempts[name] = nil
            stuckMtime[name] = nil
        } catch {
            if error.code == ENOENT, outgoing.info(name) == nil {
                logger.notice("[\(name)] finished: \(summary); the file was already removed by someone else")
                return forget(name)
            }
            archiver.reopenDoneDirectoryNextTime()
            let retryAt = now.adding(configuration.stepRetryDelay)
            logger.error("[\(name)] finished: \(summary), but cannot \(rule.archive ? "archive" : "delete") it: \(error); it stays in outgoing/ (never dialled again by this spoold), trying again at \(retryAt.timeOfDay)")
            emit(.stepFailed(file: name, step: rule.archive ? "archive" : "delete"))
            unfinished[name] = (status, summary, rule, marked != nil)
            schedule(name, at: retryAt)
        }
    }

    /// The file left `outgoing/`: changes the watcher reports for it until it reports the removal are
    /// spoold's own records and times.
    func noteDeparting(_ name: String) {
        if departing.count >= Self.departingLimit { departing.removeAll() }
        departing.insert(name)
    }

    /// Queues an event for the end of the loop's turn (a turn is rung for when there is none under way).
    func emit(_ event: EngineEvent) {
        guard events != nil else { return }
        if pendingEvents.isEmpty, !inLoopTurn { doorbell.ring() }
        pendingEvents.append(event)
    }

    func flushEvents() {
        guard let events, !pendingEvents.isEmpty else { return }
        events.yield(pendingEvents)
        pendingEvents.removeAll(keepingCapacity: true)
    }

    /// Gives the finisher this turn's staged archives, in one go.
    func handStagedArchivesOver() {
        guard !stagedArchives.isEmpty else { return }
        finisher.start(stagedArchives) { Task { await self.collectFinished() } }
        stagedArchives.removeAll(keepingCapacity: true)
    }

    func collectFinished() {
        for done in finisher.takeResults() {
            finished(done.step, result: done.result)
        }
    }

    /// The finisher moved (or could not move) a file that `finish` marked.
    func finished(_ step: Finisher.Step, result: Result<String?, SystemError>) {
        let name = step.name
        finishing.remove(name)
        if loopWaitsForSlot { doorbell.ring() }  // the drain waits for handed-off steps
        switch result {
        case .success(let archived?):
            logger.notice("[\(name)] finished: \(step.summary); archived to outgoing_done/\(archived)")
            emit(.finished(file: name, status: step.status, disposition: .archived(archived), summary: step.summary))
        case .success(nil):
            // Removed, or replaced by rename, after its Status line: the new file is a new call.
            logger.warning("[\(name)] finished: \(step.summary), but the file was removed or replaced before it could be archived; this result goes into no file")
            emit(.replacedInFlight(file: name))
            reappeared.insert(name)
        case .failure(let error):
            // Marked already, so never dialled again (here, or after a restart): moved when the step is retried.
            archiver.reopenDoneDirectoryNextTime()
            let retryAt = clock.now().adding(configuration.stepRetryDelay)
            logger.error("[\(name)] finished: \(step.summary), but cannot move it into outgoing_done: \(error); it stays in outgoing/ with its Status line (never dialled again), trying again at \(retryAt.timeOfDay)")
            emit(.stepFailed(file: name, step: "archive"))
            unfinished[name] = (step.status, step.summary, FinishRule(archive: true, alwaysDelete: true), true)
            schedule(name, at: retryAt)
            return
        }
        rememberedAttempts[name] = nil
        stuckMtime[name] = nil
        // A new file of this name came in meanwhile; its watcher event was ignored as busy.
        if reappeared.remove(name) != nil { note(name) }
    }

    /// AlwaysDelete: no, and the dialplan moved the mtime into the future: the file is due again then as a
    /// fresh call, so spoold's records come out of it (no DelayedRetry growth, no stale counts).
    func keepForReuse(_ name: String, due: SpoolInstant, summary: String) {
        do {
            try stripRecords(name, mtime: due)
        } catch {
            logger.error("[\(name)] cannot take spoold's records out of the reused file: \(error); they stay")
        }
        rememberedAttempts[name] = nil
        logger.notice("[\(name)] finished: \(summary); kept (AlwaysDelete: no, and its mtime was moved to \(due.timeOfDay)): due again then as a fresh call")
        emit(.keptForReuse(file: name, due: due))
        schedule(name, at: due)
    }

    func stripRecords(_ name: String, mtime: SpoolInstant) throws(SystemError) {
        guard case .success(let (bytes, info)) = outgoing.readCallFile(name, limit: configuration.maxFileSize) else {
            throw SystemError("read", EIO)
        }
        let parsed = CallFileParser.parse(bytes, path: configuration.outgoingPath + "/" + name)
        let recordLines = Set(parsed.file.records.compactMap(\.line))
        guard !recordLines.isEmpty else { return }
        let stripped = Self.removingLines(recordLines, from: bytes)
        let temporary = "." + name + Self.rewriteSuffix
        try outgoing.writeNewFile(temporary, bytes: stripped, mode: info.mode, mtime: mtime)
        do {
            try outgoing.rename(temporary, to: outgoing, as: name, noReplace: false)
        } catch {
            try? outgoing.unlink(temporary)
            throw error
        }
    }

    /// Drops the given 1-based lines, and the blank line each record line follows.
    static func removingLines(_ lines: Set<Int>, from bytes: [UInt8]) -> [UInt8] {
        var pieces = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        let trailingNewline = bytes.last == UInt8(ascii: "\n")
        if trailingNewline { pieces.removeLast() }
        var drop = lines
        for line in lines where line >= 2 && pieces[line - 2].isEmpty { drop.insert(line - 1) }
        var result: [UInt8] = []
        for (index, piece) in pieces.enumerated() where !drop.contains(index + 1) {
            result += piece
            result.append(UInt8(ascii: "\n"))
        }
        if !trailingNewline, !result.isEmpty, !drop.contains(pieces.count) { result.removeLast() }
        return result
    }

    /// Asterisk's rule for invalid contents (reference §3): never dialled; archived with Failed when
    /// Archive is on, left alone when AlwaysDelete is off and the mtime is in the future, else deleted.
    func finishInvalid(_ name: String, file: CallFile, reason: String, now: SpoolInstant) {
        logger.error("[\(name)] invalid call file: \(reason); not dialled")
        if !file.alwaysDelete, let info = outgoing.info(name), info.mtime > now {
            logger.notice("[\(name)] finished: Failed (invalid); left in place (AlwaysDelete: no, mtime in the future)")
            emit(.finished(file: name, status: .failed, disposition: .left, summary: "Failed (invalid: \(reason))"))
            return schedule(name, at: info.mtime)
        }
        finish(name, rule: FinishRule(file), status: .failed, summary: "Failed (invalid: \(reason))")
    }

    /// Hostile or unreadable files are never deleted: they go to outgoing_done with Status: Failed
    /// whatever their Archive setting (contract §2.7, §5).
    func moveAside(_ name: String, reason: String) {
        finish(name, rule: FinishRule(archive: true, alwaysDelete: true), status: .failed, summary: "Failed (\(reason))")
    }

    func moveSymlinkAside(_ name: String) {
        do {
            let archived = try archiver.archiveSymlink(name)
            logger.error("[\(name)] refused: a symlink is never followed; finished: Failed (symlink); recorded in outgoing_done/\(archived) and the link removed")
            emit(.finished(file: name, status: .failed, disposition: .archived(archived), summary: "Failed (symlink)"))
        } catch {
            if error.code == ENOENT, outgoing.info(name) == nil { return forget(name) }
            logger.error("[\(name)] refused: a symlink is never followed, and it cannot be moved aside: \(error); trying again later")
            schedule(name, at: clock.now().adding(configuration.stepRetryDelay))
        }
    }

    // MARK: - Shutdown

    func drain() async {
        let deadline = clock.now().adding(configuration.shutdownGrace)
        if !attempts.isEmpty {
            logger.notice("stopping: waiting up to \(configuration.shutdownGrace) for \(attempts.count) calls in flight")
        }
        loopWaitsForSlot = true
        while true {
            takeCallReports()
            handStagedArchivesOver()
            flushEvents()
            guard !attempts.isEmpty, clock.now() < deadline else { break }
            await doorbell.wait(until: deadline, clock: clock)
        }
        // Archives already handed off are a few file steps: let them end, so that each one is logged.
        while !finishing.isEmpty {
            handStagedArchivesOver()
            flushEvents()
            await doorbell.wait()
        }
        if !attempts.isEmpty {
            logger.warning("stopping with \(attempts.count) calls still in flight; their files keep their StartRetry record and are recovered at the next start (followed if still up, else counted as aborted)")
        }
        stopped = true
        flushEvents()
        logger.notice("spoold stopped")
    }
}

/// Set once, read from any thread: the loop and the drain check it between steps.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}

func currentUID() -> UInt32 { getuid() }
