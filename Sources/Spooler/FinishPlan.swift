import CallFile

/// How a finished file leaves outgoing/: its Status, the summary the log and the result give, and the two
/// options of the file that decide the way out (Archive, AlwaysDelete). It decides the first step (contract
/// §2.3, §2.6): a file whose mtime someone else moved into the future during the call is kept for reuse
/// (AlwaysDelete: no); a file that holds its Status line already is moved at once, and only that very file;
/// else the Status line is written first (Archive: yes), or the file is deleted. A hostile or unreadable file
/// is moved aside whatever it says.
///
/// A type of its own so that these rules are tested on their own (`FinishPlanTests`); the core keeps the
/// states the steps go through (`finishing`, `moving`, `finishRetry`) and their results.
struct FinishPlan: Equatable, Sendable {
    /// The two options that decide what finishing does with a file.
    struct Rule: Equatable, Sendable {
        var archive: Bool, alwaysDelete: Bool
        init(archive: Bool, alwaysDelete: Bool) { (self.archive, self.alwaysDelete) = (archive, alwaysDelete) }
        init(_ file: CallFile) { self.init(archive: file.archive, alwaysDelete: file.alwaysDelete) }
        /// Into outgoing_done with its Status line, whatever the file says.
        static let moveAside = Rule(archive: true, alwaysDelete: true)
    }

    /// The first step out of outgoing/.
    enum Step: Equatable {
        /// Kept for reuse (AlwaysDelete: no, its mtime moved): spoold's records come out, due again at `due`.
        case keep(due: SpoolInstant)
        /// Holds its Status line already: this file (device and inode) is moved into outgoing_done.
        case move(FileID)
        /// The Status line first: from then on the file is finished, whatever happens to spoold.
        case mark
        case delete
    }

    var status: CallStatus, summary: String, rule: Rule
    /// The mtime spoold's last StartRetry set (only someone else's future mtime keeps the file).
    var ownMtime: SpoolInstant?
    /// The file that holds the Status line already.
    var marked: FileID?

    init(status: CallStatus, summary: String, rule: Rule, ownMtime: SpoolInstant? = nil, marked: FileID? = nil) {
        (self.status, self.summary, self.rule, self.ownMtime, self.marked) = (status, summary, rule, ownMtime, marked)
    }

    /// Finished by the file's own Archive and AlwaysDelete options.
    init(_ status: CallStatus, _ summary: String, _ file: CallFile, ownMtime: SpoolInstant? = nil) {
        self.init(status: status, summary: summary, rule: Rule(file), ownMtime: ownMtime)
    }

    /// A hostile or unreadable file: moved aside with Status: Failed whatever its Archive option says.
    static func aside(_ reason: String) -> Self {
        Self(status: .failed, summary: "Failed (\(reason))", rule: .moveAside)
    }

    /// `info`: the file's lstat now (needed only when the file is not marked and AlwaysDelete is off).
    func firstStep(info: EntryInfo?, now: SpoolInstant) -> Step {
        if marked == nil, !rule.alwaysDelete, let info, info.kind == .regular, info.mtime > now,
           info.mtime != ownMtime {
            return .keep(due: info.mtime)
        }
        if let marked { return .move(marked) }
        return rule.archive ? .mark : .delete
    }

    /// The step that failed, as the log and the `stepFailed` event name it.
    var step: String { rule.archive ? "archive" : "delete" }

    /// The plan a failed step is tried again with: the same Status and summary, by `rule` (a file that holds
    /// its Status line is moved aside). The file is looked at again then, so no mtime or identity is kept.
    func retried(rule: Rule? = nil) -> FinishPlan {
        FinishPlan(status: status, summary: summary, rule: rule ?? self.rule)
    }
}
