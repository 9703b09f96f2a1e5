import CallFile
import Logging
import SpoolWatcher

/// The spool engine's shell: it reads one inbox, feeds `SpoolStateMachine`, and carries out the actions the
/// core returns with the file system (`SpoolDirectory`, `Archiver`) and the backend. Every result goes back
/// into the core: a step done on the loop (a stat, a read, a record) at once, as the core's next event; news
/// from elsewhere (the watcher, call stages, the archive mover, recovery answers, reloads, stop) through
/// the inbox. Nothing here decides anything about a file.
public actor SpoolEngine {
    public nonisolated let configuration: EngineConfiguration
    let backend: any CallBackend
    let clock: any SpoolClock
    let logger: Logger
    var outgoing: SpoolDirectory
    let archiver: Archiver
    let finisher: Finisher
    /// What happens to each file, in batches (one per turn of the loop).
    let events: AsyncStream<[EngineEvent]>.Continuation?
    nonisolated let inbox = Inbox()
    var core: SpoolStateMachine
    /// The due file being decided on, kept open so that its StartRetry goes through the same descriptor.
    var openFile: (name: String, file: SpoolDirectory.OpenCallFile)?
    /// Archives marked in this turn, handed to the finisher together at its end.
    var staged: [Finisher.Step] = []
    /// Events of this turn, yielded together at its end: one element per turn for each reader.
    var pendingEvents: [EngineEvent] = []
    /// Control requests (`spoold cancel`, `reschedule`) waiting for the core's reply, by request number.
    var replies: [UInt64: CheckedContinuation<SpoolStateMachine.ControlReply, Never>] = [:]
    var lastRequest: UInt64 = 0
    /// Set when the loop has returned: nobody reads the inbox any more.
    var loopEnded = false

    public init(
        configuration: EngineConfiguration,
        backend: any CallBackend,
        clock: any SpoolClock = SystemSpoolClock(),
        logger: Logger,
        events: AsyncStream<[EngineEvent]>.Continuation? = nil
    ) throws(SystemError) {
        self.configuration = configuration
        self.backend = backend
        self.clock = clock
        self.logger = logger
        self.events = events
        outgoing = try SpoolDirectory(path: configuration.outgoingPath, create: true, sync: configuration.diskSync)
        archiver = Archiver(outgoing: outgoing, donePath: configuration.donePath)
        finisher = Finisher(archiver: archiver, inbox: inbox)
        let settings = SpoolStateMachine.Settings(
            outgoingPath: configuration.outgoingPath, donePath: configuration.donePath, pid: configuration.pid,
            uid: currentUID(), maxFileSize: configuration.maxFileSize, finishAtAnswer: configuration.finishAtAnswer,
            stepRetryDelay: configuration.stepRetryDelay, backendRetryDelay: configuration.backendRetryDelay,
            shutdownGrace: configuration.shutdownGrace, backendWakesEngine: backend.wakeWhenReady { [inbox] in inbox.ring() },
            emitsEvents: events != nil)
        core = SpoolStateMachine(settings: settings, limits: EngineLimits(
            maxConcurrent: configuration.maxConcurrent, maxCallsPerSecond: configuration.maxCallsPerSecond,
            trunks: configuration.trunkLimits, callingRules: configuration.callingRules))
    }

    /// Runs until the task is cancelled (SIGTERM/SIGINT through service-lifecycle) or `stop` is called, then
    /// starts no attempt and lets calls in flight end, up to `shutdownGrace`.
    public func run() async {
        // The loop must not inherit the cancellation: the drain waits on purpose.
        let loop = Task {
            await self.loop()
            await self.endControl()
        }
        await withTaskCancellationHandler {
            await loop.value
        } onCancel: { [inbox] in
            inbox.post(.stop)
        }
    }

    /// Stops the engine like a SIGTERM would (for callers that hold no task handle).
    public nonisolated func stop() { inbox.post(.stop) }

    /// The watcher's changes, straight into the inbox.
    public nonisolated func apply(_ batch: [SpoolChange]) {
        inbox.post(batch.map { .change(SpoolStateMachine.Change($0)) })
    }

    /// Changes the global and per-trunk limits and the calling rules of the running engine (a reload).
    public func applyLimits(_ limits: EngineLimits) { inbox.post(.limits(limits)) }

    /// The limits in force now.
    public var limits: EngineLimits { core.limits }

    public func activity() -> EngineActivity { EngineActivity(scheduled: core.scheduledCount, inFlight: core.inFlight) }

    /// O(files scheduled): meant for sampling about once a second, never per file.
    public func queueSnapshot() -> QueueSnapshot {
        let census = core.scheduler.census(now: clock.now())
        // Files parked behind a full trunk left the schedule but are due all the same.
        return QueueSnapshot(due: census.due + core.trunks.parkedCount, scheduled: census.later, nextDue: census.nextLater,
                             inFlight: core.inFlight, backendReady: backend.isReady,
                             parked: core.trunks.parkedCount, maxConcurrent: core.limiter.maxConcurrent, held: core.heldCount)
    }

    // MARK: - The loop

    func loop() async {
        let recovered = archiver.recoverStaged().map { item in
            (staging: item.staging, final: item.final, failure: item.error.map { Self.failure($0, info: nil) })
        }
        let listing = Result { () throws(SystemError) in try outgoing.names() }
            .map { names in names.map { ($0, $0.hasPrefix(".") ? nil : outgoing.info($0)) } }
            .mapError { Self.failure($0, info: nil) }
        feed(.started(recovered: recovered, listing: listing))
        while true {
            for event in inbox.take() { feed(event) }
            var wake: SpoolInstant?
            var stopped = false
            var turnOver = false
            while !turnOver && !stopped {
                // A stop is taken before the rest of a burst is started.
                if inbox.stopPosted, !core.isStopping {
                    wake = clock.now()
                    break
                }
                let now = clock.now()
                let ready = backend.isReady
                let gate = SpoolStateMachine.Gate(ready: ready, allowedAt: ready ? backend.nextCallAllowed(now: now) : nil)
                for action in core.handle(.tick(gate), now: now) {
                    switch action {
                    case .wait(let until): (wake, turnOver) = (until, true)
                    case .stopped: stopped = true
                    default: perform(action)
                    }
                }
            }
            if !staged.isEmpty {
                finisher.start(staged)
                staged.removeAll(keepingCapacity: true)
            }
            flushEvents()
            if stopped {
                inbox.cancelTimer()
                return
            }
            await inbox.wait(until: wake, clock: clock)
        }
    }

    func feed(_ event: SpoolStateMachine.Event) {
        for action in core.handle(event, now: clock.now()) { perform(action) }
    }

    func flushEvents() {
        guard let events, !pendingEvents.isEmpty else { return }
        events.yield(pendingEvents)
        pendingEvents.removeAll(keepingCapacity: true)
    }

    /// Carries out one action; a step's result goes back into the core at once.
    func perform(_ action: SpoolStateMachine.Action) {
        switch action {
        case .log(let level, let text): logger.log(level: level.logging, "\(text)")
        case .debug(let line): logger.debug("\(EngineWording.debug(line))")
        case .logReady(let text):
            // Printed whatever the log level; the level is set back because a handler that is a class is shared.
            var readyLogger = logger
            let level = logger.logLevel
            readyLogger.logLevel = min(level, .notice)
            readyLogger.notice("\(text)")
            readyLogger.logLevel = level
        case .emit(let event): if events != nil { pendingEvents.append(event) }
        case .stat(let name): feed(.statted(name, outgoing.info(name)))
        case .read(let name, let forAppend):
            let limit = configuration.maxFileSize
            switch outgoing.openCallFile(name, limit: limit, forAppend: forAppend) {
            case .success(let file):
                openFile = forAppend ? (name, file) : nil
                feed(.fileRead(name, .read(file.bytes, file.info)))
                openFile = nil
                file.close()
            case .failure(let failure): feed(.fileRead(name, Self.readResult(failure)))
            }
        case .appendRecord(let name, let bytes, let atime, let mtime, let statAfter):
            let result = Result { () throws(SystemError) in
                if let open = openFile, open.name == name { return try outgoing.append(bytes, to: open.file, atime: atime, mtime: mtime) }
                return try outgoing.append(bytes, to: name, atime: atime, mtime: mtime)
            }
            feed(.recordWritten(name, result.map { appended in
                SpoolStateMachine.Appended(
                    lengthBefore: appended.lengthBefore, fileID: appended.fileID,
                    timesFailure: appended.timesError.map { failure($0, name) },
                    infoAfter: statAfter || appended.timesError != nil ? outgoing.info(name) : nil)
            }.mapError { failure($0, name) }))
        case .truncate(let name, let length, let mtime):
            feed(.truncated(name, step(name) { () throws(SystemError) in try outgoing.truncate(name, to: length, mtime: mtime) }))
        case .setMtime(let name, let mtime):
            feed(.timesSet(name, step(name) { () throws(SystemError) in try outgoing.setTimes(name, atime: mtime, mtime: mtime) }))
        case .place(let name, let request, let token): backend.place(request, report: reporter(name, token))
        case .follow(let name, let channelId, let token): forward(backend.awaitHangup(of: channelId), to: reporter(name, token))
        case .askChannel(let name, let channelId):
            let (backend, inbox) = (self.backend, self.inbox)
            Task.detached { inbox.post(.channelChecked(name, exists: await backend.channelExists(channelId))) }
        case .markFinished(let name, let status): feed(.marked(name, archiver.markFinished(name, status: status)))
        case .moveMarked(let name, let file): staged.append(Finisher.Step(name: name, file: file))
        case .moveUnmarked(let name):
            feed(.movedUnmarked(name, Result { () throws(SystemError) in try archiver.moveUnmarked(name) }.mapError { failure($0, name) }))
        case .delete(let name): feed(.deleted(name, step(name) { () throws(SystemError) in try archiver.delete(name) }))
        case .archiveSymlink(let name):
            feed(.symlinkArchived(name, Result { () throws(SystemError) in try archiver.archiveSymlink(name) }.mapError { failure($0, name) }))
        case .rewrite(let name, let bytes, let mode, let mtime):
            let temporary = "." + name + SpoolStateMachine.rewriteSuffix
            feed(.rewritten(name, step(name) { () throws(SystemError) in
                try outgoing.writeNewFile(temporary, bytes: bytes, mode: mode, mtime: mtime)
                do throws(SystemError) {
                    try outgoing.rename(temporary, to: outgoing, as: name, noReplace: false)
                } catch {
                    try? outgoing.unlink(temporary)
                    throw error
                }
            }))
        case .removeLeftover(let name): try? outgoing.unlink(name)
        case .reopenOutgoing:
            // outgoing/ was deleted and made again: the old descriptor points at the deleted directory.
            let reopened = try? SpoolDirectory(path: configuration.outgoingPath, create: false, sync: configuration.diskSync)
            if let reopened {
                outgoing = reopened
                archiver.outgoing = reopened
            }
            feed(.outgoingReopened(reopened != nil))
        case .reopenDoneDirectory: archiver.reopenDoneDirectoryNextTime()
        case .reply(let id, let reply): replies.removeValue(forKey: id)?.resume(returning: reply)
        case .hangUp(let name, let channelId): hangUp(name, channelId: channelId)
        case .setDue(let name, let due, let reply):
            feed(.dueSet(name, due, reply: reply, step(name) { () throws(SystemError) in try outgoing.setTimes(name, atime: due, mtime: due) }))
        case .wait, .stopped: break
        }
    }

    /// Where the backend reports one attempt's call: into the inbox, but for `placed`, which the core takes as no news.
    nonisolated func reporter(_ name: String, _ token: UInt64) -> CallReport {
        { [inbox] stage in if stage != .placed { inbox.post(.callStage(name, token: token, stage)) } }
    }

    /// Runs one file-system step on `name`: nil when it worked, else what failed.
    func step(_ name: String, _ body: () throws(SystemError) -> Void) -> SpoolStateMachine.StepFailure? {
        do { try body() } catch { return failure(error, name) }
        return nil
    }

    /// A failed step, with what lstat says about the name right after.
    func failure(_ error: SystemError, _ name: String) -> SpoolStateMachine.StepFailure {
        Self.failure(error, info: outgoing.info(name))
    }

    static func failure(_ error: SystemError, info: EntryInfo?) -> SpoolStateMachine.StepFailure {
        SpoolStateMachine.StepFailure(code: error.code, text: error.description, infoAfter: info)
    }

    static func readResult(_ failure: ReadFailure) -> SpoolStateMachine.ReadResult {
        switch failure {
        case .gone: .gone
        case .symlink: .symlink
        case .notRegular: .notRegular
        case .tooLarge(let size): .tooLarge(size)
        case .unreadable(let error, let info): .unreadable(Self.failure(error, info: info))
        }
    }
}

extension SpoolStateMachine.LogLevel {
    var logging: Logger.Level {
        switch self {
        case .debug: .debug
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        }
    }
}

extension SpoolStateMachine.Change {
    init(_ change: SpoolChange) {
        switch change {
        case .appeared(let name): self = .appeared(name)
        case .changed(let name): self = .changed(name)
        case .removed(let name): self = .removed(name)
        case .rescan(let names, let reason):
            switch reason {
            case .initial: self = .rescan(names, reason: .initial)
            case .overflow: self = .rescan(names, reason: .overflow)
            case .directoryRecreated: self = .rescan(names, reason: .directoryRecreated)
            case .poll: self = .rescan(names, reason: .poll)
            }
        }
    }
}
