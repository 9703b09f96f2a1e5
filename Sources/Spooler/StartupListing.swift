import CallFile

/// What the start-up listing says before any file is scheduled: the archives a stop or crash interrupted,
/// finished by the shell before the listing (each gives one line: finished, or why it stays in outgoing_done),
/// a listing that failed, and the rewrite temporaries a crash left (`.NAME.spoold-rewrite`: removed, their
/// originals are intact because a rewrite is a rename over the file).
///
/// A type of its own so that these are tested on their own (`StartupListingTests`); the core schedules the
/// names and starts the sweep. Pure.
enum StartupListing {
    typealias Action = SpoolStateMachine.Action
    typealias Recovered = (staging: String, final: String, failure: SpoolStateMachine.StepFailure?)

    /// The lines and removals, and the names listed (none when the listing failed).
    static func read(_ recovered: [Recovered], _ listing: Result<[(String, EntryInfo?)], SpoolStateMachine.StepFailure>,
                     outgoingPath: String, donePath: String) -> (actions: [Action], names: [(String, EntryInfo?)]) {
        var actions: [Action] = recovered.map { item in
            item.failure.map { .log(.error, "[\(item.staging)] could not finish an interrupted archive: \($0); it stays in \(donePath)") }
                ?? .log(.notice, "[\(item.final)] finished an archive interrupted by a stop or crash: outgoing_done/\(item.final)")
        }
        var names: [(String, EntryInfo?)] = []
        switch listing {
        case .success(let listed): names = listed
        case .failure(let failure): actions.append(.log(.error, "cannot list \(outgoingPath): \(failure)"))
        }
        // A rewrite temporary left by a crash: its original is intact.
        for (name, _) in names where name.hasPrefix(".") && name.hasSuffix(SpoolStateMachine.rewriteSuffix) {
            actions.append(.removeLeftover(name))
        }
        return (actions, names)
    }
}
