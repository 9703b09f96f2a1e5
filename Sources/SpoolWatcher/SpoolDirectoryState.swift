/// Turns the inotify events on one spool directory's children into `SpoolChange`s.
///
/// Pure: events and the current time go in, changes come out, so every rule is tested by feeding
/// events. The rules:
/// - renamed in (`IN_MOVED_TO`): appeared at once;
/// - created (`IN_CREATE`): held until the writer's close (`IN_CLOSE_WRITE`), or, if nobody opens it
///   within `linkGrace` (a hard link, `mknod`, `mkdir`), appeared when the grace ends;
/// - a pending name opened and closed without writing by someone else goes back to the grace;
/// - rewritten (`IN_CLOSE_WRITE` of a name not pending) or touched (`IN_ATTRIB`): changed;
///   `IN_ATTRIB` on a pending name is part of its creation (e.g. `touch` of a new file) and is held;
/// - deleted or renamed away: removed, and forgotten if it was pending.
struct SpoolDirectoryState {
    typealias Instant = ContinuousClock.Instant

    static let linkGrace: Duration = .seconds(2)

    /// Created names nobody has opened yet, with the time they appear anyway.
    private var created: [String: Instant] = [:]
    /// Created names opened for writing, waiting for the close.
    private var opened: Set<String> = []
    /// `created` in deadline order (deadlines only grow, because `now` does); entries whose deadline
    /// no longer matches `created` are stale and skipped.
    private var deadlines: [(name: String, deadline: Instant)] = []
    private var deadlinesHead = 0

    var pendingCount: Int { created.count + opened.count }

    /// The earliest time `expire` has something to report. Drops stale entries on the way, so a
    /// burst of created-then-opened names costs nothing on later calls.
    mutating func nextDeadline() -> Instant? {
        while deadlinesHead < deadlines.count {
            let entry = deadlines[deadlinesHead]
            if created[entry.name] == entry.deadline { return entry.deadline }
            deadlinesHead += 1
        }
        compactDeadlines()
        return nil
    }

    mutating func handle(_ mask: InotifyMask, name: String, now: Instant) -> SpoolChange? {
        handle(mask, name: name, readingNow: { now })
    }

    /// `now` is called only when a name's grace starts (a create, a reader's close): the watcher reads the
    /// clock for those events only, not for each of spoold's own.
    mutating func handle(_ mask: InotifyMask, name: String, readingNow now: () -> Instant) -> SpoolChange? {
        // Nothing pending (the usual case, and always for spoold's own steps): no name is hashed.
        let anyPending = pendingCount > 0
        if mask.contains(.movedTo) {
            if anyPending { forget(name) }
            return .appeared(name)
        }
        if mask.contains(.create) {
            opened.remove(name)
            arm(name, now: now())
            return nil
        }
        if mask.contains(.open) {
            if created.removeValue(forKey: name) != nil { opened.insert(name) }
            return nil
        }
        if mask.contains(.closeWrite) {
            let wasPending = anyPending && (opened.remove(name) != nil || created.removeValue(forKey: name) != nil)
            return wasPending ? .appeared(name) : .changed(name)
        }
        if mask.contains(.closeNoWrite) {
            // A reader (not the writer) closed it; whether a writer is still busy is unknown, so the
            // name waits for a writer's close or for the grace to end.
            if anyPending, opened.remove(name) != nil { arm(name, now: now()) }
            return nil
        }
        if mask.contains(.attrib) {
            return anyPending && isPending(name) ? nil : .changed(name)
        }
        if mask.contains(.delete) || mask.contains(.movedFrom) {
            if anyPending { forget(name) }
            return .removed(name)
        }
        return nil
    }

    /// Names created without an open whose grace has ended, in creation order.
    mutating func expire(now: Instant) -> [SpoolChange] {
        var changes: [SpoolChange] = []
        while deadlinesHead < deadlines.count, deadlines[deadlinesHead].deadline <= now {
            let entry = deadlines[deadlinesHead]
            deadlinesHead += 1
            if created[entry.name] == entry.deadline {
                created.removeValue(forKey: entry.name)
                changes.append(.appeared(entry.name))
            }
        }
        compactDeadlines()
        return changes
    }

    private mutating func compactDeadlines() {
        if deadlinesHead == deadlines.count {
            deadlines.removeAll(keepingCapacity: true)
            deadlinesHead = 0
        } else if deadlinesHead > 1024, deadlinesHead * 2 > deadlines.count {
            deadlines.removeFirst(deadlinesHead)
            deadlinesHead = 0
        }
    }

    /// Forgets everything pending: a complete listing is about to be reported instead.
    mutating func reset() {
        created.removeAll()
        opened.removeAll()
        deadlines.removeAll()
        deadlinesHead = 0
    }

    private func isPending(_ name: String) -> Bool {
        created[name] != nil || opened.contains(name)
    }

    private mutating func arm(_ name: String, now: Instant) {
        let deadline = now + Self.linkGrace
        created[name] = deadline
        deadlines.append((name, deadline))
    }

    private mutating func forget(_ name: String) {
        created.removeValue(forKey: name)
        opened.remove(name)
    }
}
