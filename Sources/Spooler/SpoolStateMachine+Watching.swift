import CallFile

/// Start-up, the watcher's changes, and scheduling each name by its mtime.
extension SpoolStateMachine {
    mutating func started(_ recovered: [(staging: String, final: String, failure: StepFailure?)],
                          _ listing: Result<[(String, EntryInfo?)], StepFailure>, toCome: Int, now: SpoolInstant) -> [Action] {
        let (lines, names) = StartupListing.read(recovered, listing, outgoingPath: settings.outgoingPath, donePath: settings.donePath)
        var actions = lines
        let total = files.count + names.count + toCome  // the whole listing at once (no-ops after its first batch)
        scheduler.reserveCapacity(total)
        files.reserveCapacity(total)
        sweep.reserve(names.count + toCome)
        for (name, info) in names where Self.isCallFileName(name) {
            actions += noted(name, info, now: now)
            sweep.consider(name, info, now: now)
        }
        guard toCome == 0 else { return actions }
        sweep.listingDone()
        actions.append(.logReady(EngineWording.ready(scheduled: scheduler.count, in: settings, limiter)))
        actions.append(.emit(.ready(scheduled: scheduler.count)))
        return actions
    }

    static func isCallFileName(_ name: String) -> Bool { !name.hasPrefix(".") && !name.utf8.contains(UInt8(ascii: "/")) }

    mutating func apply(_ change: Change, now: SpoolInstant) -> [Action] {
        switch change {
        case .appeared(let name), .changed(let name), .removed(let name):
            // Each change looks its name up once: most are spoold's own appends, utimes and moves, about a
            // busy or departed file, and end here.
            let state = state(of: name)
            switch WatcherChanges.effect(of: change, in: state) {
            case .none: return []
            case .look: return note(name, state: state)
            case .lookAfresh:
                drop(name)
                return note(name, state: nil)
            case .drop: drop(name)
            case .moving(let finish, let reappeared, let removed): set(name, .moving(finish, reappeared: reappeared, removed: removed))
            case .forget: return forget(name)
            }
            return []
        case .rescan(let names, let reason):
            var actions: [Action] = reason == .directoryRecreated ? [.reopenOutgoing] : []
            if departed > 0 { forgetDeparted() }  // removals may have been lost with the events; a listing tells
            actions.reserveCapacity(actions.count + names.count)
            for name in names { actions += note(name) }
            // A first listing is the start-up listing itself (spoold run hands the watcher's to `started`) or
            // follows the engine's own by moments: a scheduled name missing from it is re-checked when due anyway.
            guard reason != .initial else { return actions }
            let present = Set(names)
            for (name, entry) in files where entry.stamp.isScheduled && !present.contains(name) && !isBusy(name) {
                actions += note(name)  // re-stat: a rescan can race with a rename in
            }
            return actions
        }
    }

    /// Asks for a fresh lstat of a name that is not busy; `noted` schedules it by the answer.
    func note(_ name: String) -> [Action] { note(name, state: state(of: name)) }

    /// `note` for a name whose state was just looked up.
    func note(_ name: String, state: FileState?) -> [Action] {
        Self.isCallFileName(name) && !Self.isBusy(state) ? [.stat(name)] : []
    }

    mutating func statted(_ name: String, _ info: EntryInfo?, now: SpoolInstant) -> [Action] {
        switch state(of: name) {
        case .ending(let attempt, let outcome, let ended)?: return attemptOver(name, attempt, outcome, info: info, ended: ended)
        case .checking(let recovery)?: return adopt(name, recovery, info: info, now: now)
        case .finishRetry(let finish, let marked)?:
            return apply(FinishSteps.retryDue(name, finish, marked: marked, info: info, now: now), to: name)
        default: return noted(name, info, now: now)
        }
    }

    /// Schedules a name by its lstat: a regular file at its mtime, a symlink at once (to be refused); other
    /// kinds are skipped with one warning; a gone name is forgotten.
    mutating func noted(_ name: String, _ info: EntryInfo?, now: SpoolInstant) -> [Action] {
        guard let info else {
            switch state(of: name) {
            case .scheduled?, .held?: return forget(name)
            case .due?: drop(name)
            default: break
            }
            return []
        }
        switch info.kind {
        case .regular:
            // An mtime spoold cannot change, or the one it gave a held file: not a touch. (Most names have no memos.)
            if let memos = files[name]?.memos, memos.isBoxed {
                if memos.isOwn(mtime: info.mtime) {
                    if state(of: name) == .due { schedule(name, at: info.mtime) }
                    return []
                }
                changeMemos(name) { $0.clearTimeMemos() }  // its mtime is its own again
                // Touched or replaced (not spoold's own record): what it said may no longer hold.
                if due(of: name) != info.mtime { files[name]?.memos.summary = nil }
            }
            schedule(name, at: info.mtime)
        case .symlink:
            schedule(name, at: now)
        case .other(let kind):
            unschedule(name)
            set(name, .skipped)
            if files[name]!.memos.skipped() {
                return [.log(.warning, "[\(name)] skipped: a \(kind) is not a call file; spoold never opens it"),
                        .emit(.skipped(file: name, kind: kind))]
            }
        }
        return []
    }

    /// A file of the start-up sweep, read: what it says is `StartupSweep.found`'s; here it is carried out.
    mutating func swept(_ name: String, _ result: ReadResult, now: SpoolInstant) -> [Action] {
        let (runnable, found) = StartupSweep.found(result, path: settings.outgoingPath + "/" + name)
        if let file = runnable { remember(name, file, made: file.finishedAttempts) }
        switch found {
        case .nothing: return []
        case .finished(let status, let file):
            unschedule(name)
            return archiveMarked(name, status: status, file: file, now: now)
        case .interrupted(let file, let start):
            unschedule(name)
            return recover(name, file: file, start: start)
        }
    }
}
