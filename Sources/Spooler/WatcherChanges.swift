import CallFile

/// What the watcher's reports mean for the engine: a batch loses the changes that repeat the one just before
/// them, and each change about one name means, by that name's state, a fresh look at the file, nothing (most
/// reports are spoold's own appends, utimes and moves, about a busy or departed file), the end of a departed
/// entry, a note on a file being moved into outgoing_done (a new file took the name, or the removal came), or
/// that a waiting file is gone.
///
/// A type of its own so that these rules are tested change by change and state by state
/// (`WatcherChangesTests`, `EngineChangeCoalescingTests`); the core applies each effect to its entry.
enum WatcherChanges {
    typealias Change = SpoolStateMachine.Change
    typealias FileState = SpoolStateMachine.FileState

    /// A watcher batch without the changes that repeat the one just before them: `changed` right after
    /// `appeared` or `changed` of the same name. Each asks for a fresh look at the name, and the batch is fed
    /// in one go with nothing between, so the second look would see what the first saw. spoold's own steps
    /// come in such pairs (the times of a record set, then the close of its descriptor).
    static func coalesced(_ changes: [Change]) -> [Change] {
        var kept: [Change] = []
        kept.reserveCapacity(changes.count)
        for change in changes {
            if case .changed(let name) = change, let last = kept.last {
                switch last {
                case .appeared(let previous), .changed(let previous): if previous == name { continue }
                case .removed, .rescan: break
                }
            }
            kept.append(change)
        }
        return kept
    }

    /// What a change about one name does.
    enum Effect: Equatable {
        /// Nothing: spoold's own change to a departed file, the removal of a busy one, or of a name not known.
        case none
        /// A fresh lstat, if the name is a call file's and the file is not busy (its own changes are spoold's).
        case look
        /// The departed entry goes, and the name is looked at as a new file.
        case lookAfresh
        /// The departed entry goes: the watcher has reported its removal.
        case drop
        /// A file being moved into outgoing_done: a new file took its name, or its removal was reported.
        case moving(FinishPlan, reappeared: Bool, removed: Bool)
        /// A waiting file was removed: it is forgotten.
        case forget
    }

    /// `change`: `appeared`, `changed` or `removed` (a rescan is the core's: it looks at every name).
    static func effect(of change: Change, in state: FileState?) -> Effect {
        switch (change, state) {
        case (.appeared, .moving(let finish, _, let removed)?): .moving(finish, reappeared: true, removed: removed)
        case (.appeared, .departed?): .lookAfresh
        case (.appeared, _): .look
        case (.changed, .departed?): .none
        case (.changed, _): .look
        case (.removed, .departed?): .drop
        case (.removed, .moving(let finish, let reappeared, _)?): .moving(finish, reappeared: reappeared, removed: true)
        case (.removed, .scheduled?), (.removed, .held?): .forget
        case (.removed, _), (.rescan, _): .none
        }
    }
}
