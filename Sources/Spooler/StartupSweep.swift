import CallFile

/// The start-up sweep: the files of the start-up listing whose mtime lies ahead, read in the background after
/// `spoold ready`, one batch per turn of the engine's loop. A file finished but not yet archived at the last
/// stop, or one whose attempt a crash left in flight, carries spoold's own future mtime (the StartRetry's
/// t+2R): without the sweep it would wait until then, unarchived or with its call unaccounted for
/// (docs/engine.md, "Recovery at start").
///
/// A type of its own so that what is swept, its batching and what a swept file's read says are tested on their
/// own (`StartupSweepTests`); the core carries it out. Pure; the time comes in as an argument.
struct StartupSweep: Sendable {
    /// Files read per turn, so that due calls, ended calls and archives go on meanwhile.
    static let batchSize = 256

    private var names: [String] = []
    /// Whether this turn had its batch.
    private var sweptThisTurn = false

    var isEmpty: Bool { names.isEmpty }
    var count: Int { names.count }

    /// Makes room for `count` more names (the whole listing at once, with its first batch of lstats).
    mutating func reserve(_ count: Int) { names.reserveCapacity(names.count + count) }

    /// A listed name is swept when it is a regular file whose mtime lies ahead.
    mutating func consider(_ name: String, _ info: EntryInfo?, now: SpoolInstant) {
        if let info, info.kind == .regular, info.mtime > now { names.append(name) }
    }

    /// The listing is complete: with nothing to sweep, the capacity reserved for it is let go.
    mutating func listingDone() {
        if names.isEmpty { names = [] }
    }

    /// The next batch (the last `batchSize` names, each through `read`), once per turn; nil when this turn
    /// had its batch or nothing is left. The batch is built before the list shrinks: a slice still sharing
    /// the list's storage would copy all of it.
    mutating func nextBatch<Read>(_ read: (String) -> Read?) -> [Read]? {
        guard !sweptThisTurn, !names.isEmpty else { return nil }
        sweptThisTurn = true
        let batch = names[max(0, names.count - Self.batchSize)...].compactMap(read)
        if names.count > Self.batchSize { names.removeLast(Self.batchSize) } else { names = [] }
        return batch
    }

    /// The turn is over: the next one may take a batch.
    mutating func turnOver() { sweptThisTurn = false }

    /// What a swept file's read says (a file not read says nothing).
    enum Found: Equatable {
        /// Nothing before it is due.
        case nothing
        /// Finished but not yet archived at the last stop (its mtime is spoold's own, in the future).
        case finished(CallStatus, FileID)
        /// An attempt a stop or crash left in flight: is its call still up?
        case interrupted(CallFile, RetryRecord)
    }

    /// `path`: the file's, for the parser's messages. `runnable`: the file as read when it can be run (for the
    /// listing), else nil; only a runnable file's interrupted attempt is recovered.
    static func found(_ result: SpoolStateMachine.ReadResult, path: String) -> (runnable: CallFile?, Found) {
        guard case .read(let bytes, let info) = result else { return (nil, .nothing) }
        let parsed = CallFileParser.parse(bytes, path: path)
        let runnable = parsed.isRunnable ? parsed.file : nil
        if let status = parsed.file.finishedStatus { return (runnable, .finished(status, info.fileID)) }
        guard let file = runnable, let start = file.inFlightStart else { return (runnable, .nothing) }
        return (runnable, .interrupted(file, start))
    }
}
