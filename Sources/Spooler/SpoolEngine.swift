import CallFile
import Logging
import SpoolWatcher
import Synchronization

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
    /// Set when the StartRetry went through `openFile` and the call was placed: the descriptor is then kept.
    var openFileDialled = false
    /// Descriptors of files whose call is in flight, kept from the read that wrote their StartRetry (at most
    /// `heldLimit`): when the look after the call finds the same file at the name, its Status line goes
    /// through it, without opening, fstat-ing and closing the file again. Closed after that look in any case.
    var held: [String: SpoolDirectory.OpenCallFile] = [:]
    static let heldLimit = 256
    /// The names whose descriptor is kept now (for tests).
    var heldNames: [String] { held.keys.sorted() }
    /// The name's lstat while the core decides on it (the `.stat` action's result, during its `.statted`).
    var looked: (name: String, info: EntryInfo?)?
    /// Archives marked in this turn, handed to the finisher together at its end.
    var staged: [Finisher.Step] = []
    /// Events of this turn, yielded together at its end: one element per turn for each reader.
    var pendingEvents: [EngineEvent] = []
    /// Control requests (`spoold cancel`, `reschedule`) waiting for the core's reply, by request number.
    var replies: [UInt64: CheckedContinuation<SpoolStateMachine.ControlReply, Never>] = [:]
    var lastRequest: UInt64 = 0
    /// Set when the loop has returned: nobody reads the inbox any more.
    var loopEnded = false
    /// Callers of `activity()` waiting for the start-up listing to be scheduled; nil once it is.
    var startWaiters: [CheckedContinuation<Void, Never>]? = []
    /// The dot names the watcher's first listing saw (`SpoolWatcher.run(dotNamesAtStart:)`), so that start-up
    /// need not list outgoing/ again for them; nil when not handed over.
    nonisolated let firstListingDotNames = Mutex<[String]?>(nil)

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
    /// starts no attempt and lets calls in flight end, up to `shutdownGrace`. `listedByWatcher`: the first news
    /// in the inbox is the watcher's first listing, taken as the start-up listing (else the engine lists outgoing/).
    public func run(listedByWatcher: Bool = false) async {
        // The loop must not inherit the cancellation: the drain waits on purpose.
        let loop = Task {
            await self.loop(listedByWatcher: listedByWatcher)
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

    /// The dot names of the watcher's first listing, handed over before that listing is posted.
    public nonisolated func takeDotNames(ofFirstListing names: [String]) {
        firstListingDotNames.withLock { $0 = names }
    }

    /// The watcher's changes, straight into the inbox.
    public nonisolated func apply(_ batch: [SpoolChange]) {
        inbox.post(WatcherChanges.coalesced(batch.map(SpoolStateMachine.Change.init)).map { .change($0) })
    }

    /// Changes the global and per-trunk limits and the calling rules of the running engine (a reload).
    public func applyLimits(_ limits: EngineLimits) { inbox.post(.limits(limits)) }

    /// The limits in force now.
    public var limits: EngineLimits { core.limits }

    /// Answered once the start-up listing is scheduled, as when the start-up held the actor from its first step
    /// (it now waits for the watcher's listing first): a count from before the listing is never reported after it.
    public func activity() async -> EngineActivity {
        if startWaiters != nil { await withCheckedContinuation { startWaiters?.append($0) } }
        return EngineActivity(scheduled: core.scheduledCount, inFlight: core.inFlight)
    }

    /// O(files scheduled): meant for sampling about once a second, never per file.
    public func queueSnapshot() -> QueueSnapshot {
        let census = core.scheduler.census(now: clock.now(), in: core.files)
        // Files parked behind a full trunk left the schedule but are due all the same.
        return QueueSnapshot(due: census.due + core.trunks.parkedCount, scheduled: census.later, nextDue: census.nextLater,
                             inFlight: core.inFlight, backendReady: backend.isReady,
                             parked: core.trunks.parkedCount, maxConcurrent: core.limiter.maxConcurrent, held: core.heldCount)
    }

    // MARK: - The loop

    func loop(listedByWatcher: Bool) async {
        startUp(listedByWatcher: listedByWatcher)
        startWaiters.take()?.forEach { $0.resume() }
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
                // Handed over, not copied (see `Inbox.take`): the finisher's queue holds the batch.
                var batch: [Finisher.Step] = []
                swap(&batch, &staged)
                finisher.start(batch)
            }
            flushEvents()
            if stopped {
                for file in held.values { file.close() }  // calls still up at the stop: recovered at the next start
                held.removeAll()
                inbox.cancelTimer()
                return
            }
            await inbox.wait(until: wake, clock: clock)
        }
    }

    /// Lists outgoing/, or takes the watcher's first listing (then the first news in the inbox) as the listing,
    /// and feeds it to the core. A function of its own, so that the listing is let go of when it returns.
    func startUp(listedByWatcher: Bool) {
        let recovered = archiver.recoverStaged().map { item in
            (staging: item.staging, final: item.final, failure: item.error.map { Self.failure($0, info: nil) })
        }
        var early = listedByWatcher ? inbox.take() : []
        var listing: [String]?
        if case .change(.rescan(let names, .initial))? = early.first, !names.isEmpty { (listing, _) = (names, early.removeFirst()) }
        // The watcher's listing is lstat'ed (by a helper task on the pool too) while outgoing/ is listed for its dot names.
        var lookup = listing.map { StartupLookup(names: $0, in: outgoing) }
        // The watcher leaves out dot names (a crash's rewrite temporaries): with its listing, only those are listed
        // here, unless the watcher handed over those its listing saw.
        let handedOver = listing == nil ? nil : firstListingDotNames.withLock { $0.take() }
        let listed = Result { () throws(SystemError) in
            if let handedOver { return handedOver }
            return try outgoing.names(hiddenOnly: listing != nil)
        }
        switch listed {
        case .failure(let error):
            lookup?.abandon()
            feed(.started(recovered: recovered, listing: .failure(Self.failure(error, info: nil))))
        case .success(let listed):
            let lister = lookup.take() ?? StartupLookup(names: listed, in: outgoing)
            let hidden = listing == nil ? [] : listed
            // The watcher's listing (held here until scheduled anyway) is the sweep list's storage: no second array.
            if let listing { core.sweep.adopt(listing) }
            // A batch at a time: the lstat of every name (72 bytes) is never held for all of them at once.
            let total = lister.count + hidden.count
            var fed = 0
            for index in 0..<max(lister.batchCount, 1) {
                let batch = lister.batchCount == 0 ? [] : lister.batch(index)
                fed += batch.count
                feed(.started(recovered: index == 0 ? recovered : [], listing: .success(batch), toCome: total - fed))
            }
            for start in stride(from: 0, to: hidden.count, by: StartupLookup.batchSize) {
                let batch = hidden[start..<min(start + StartupLookup.batchSize, hidden.count)].map { ($0, $0.hasPrefix(".") ? nil : outgoing.info($0)) }
                fed += batch.count
                feed(.started(recovered: [], listing: .success(batch), toCome: total - fed))
            }
        }
        for event in early { feed(event) }
    }

    func feed(_ event: SpoolStateMachine.Event) {
        for action in core.handle(event, now: clock.now()) { perform(action) }
    }

    func flushEvents() {
        guard !pendingEvents.isEmpty else { return }
        // Handed over, not copied (see `Inbox.take`): the readers' streams hold the batch.
        var batch: [EngineEvent] = []
        swap(&batch, &pendingEvents)
        events?.yield(batch)
    }

    /// Carries out one action; a step's result goes back into the core at once.
    func perform(_ action: SpoolStateMachine.Action) {
        switch action {
        case .log(let level, let text): logger.log(level: level.logging, Logger.Message(stringLiteral: text))
        case .debug(let line): logger.debug("\(EngineWording.debug(line))")
        case .logReady(let text):
            // Printed whatever the log level; the level is set back because a handler that is a class is shared.
            var readyLogger = logger
            let level = logger.logLevel
            readyLogger.logLevel = min(level, .notice)
            readyLogger.notice("\(text)")
            readyLogger.logLevel = level
        // Kept whether or not anyone reads events (`flushEvents` drops them then): testing the optional
        // continuation here copied it, about 1,000 instructions per event.
        case .emit(let event): pendingEvents.append(event)
        case .stat(let name):
            let info = outgoing.info(name)
            looked = (name, info)
            feed(.statted(name, info))
            looked = nil
            // Only the look that ends a call can use a kept descriptor: whatever came of it, it is closed now.
            if !held.isEmpty, let file = held.removeValue(forKey: name) { file.close() }
        case .read(let name, let forAppend):
            let limit = configuration.maxFileSize
            switch outgoing.openCallFile(name, limit: limit, forAppend: forAppend) {
            case .success(let file):
                openFile = forAppend ? (name, file) : nil
                openFileDialled = false
                feed(.fileRead(name, .read(file.bytes, file.info)))
                openFile = nil
                if openFileDialled, held.count < Self.heldLimit, held[name] == nil {
                    var kept = file
                    kept.bytes = []  // only the descriptor and the identity are needed; a file may be up to 1 MiB
                    held[name] = kept
                } else {
                    file.close()
                }
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
        case .place(let name, let request, let token):
            if let open = openFile, open.name == name { openFileDialled = true }
            backend.place(request, report: reporter(name, token))
        case .follow(let name, let channelId, let token): forward(backend.awaitHangup(of: channelId), to: reporter(name, token))
        case .askChannel(let name, let channelId):
            let (backend, inbox) = (self.backend, self.inbox)
            Task.detached { inbox.post(.channelChecked(name, exists: await backend.channelExists(channelId))) }
        case .markFinished(let name, let status):
            // Step 1 through the descriptor kept from the StartRetry when the lstat just made (this `.stat`'s
            // chain) found that same regular file at the name; else the name is opened, as for any other file.
            if let looked, looked.name == name, let info = looked.info, info.kind == .regular,
               let file = held[name], file.info.fileID == info.fileID {
                held[name] = nil
                let marked = archiver.markFinished(name, through: file, size: info.size, status: status)
                file.close()
                feed(.marked(name, marked))
            } else {
                feed(.marked(name, archiver.markFinished(name, status: status)))
            }
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
    /// swift-log's level of the same name (a switch: going through the name's string cost a string
    /// comparison per log line).
    var logging: Logger.Level {
        switch self {
        case .debug: .debug
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        }
    }
}
