import CallFile

/// The start-up sweep: the files of the start-up listing whose mtime lies ahead, read in the background after
/// `spoold ready`, one batch per turn of the engine's loop. A file finished but not yet archived at the last
/// stop, or one whose attempt a crash left in flight, carries spoold's own future mtime (the StartRetry's
/// t+2R): without the sweep it would wait until then, unarchived or with its call unaccounted for
/// (docs/engine.md, "Recovery at start").
///
/// A type of its own so that what is swept, its batching and what a swept file's read says are tested on their
/// own (`StartupSweepTests`); the core carries it out. Pure; the time comes in as an argument.
///
/// Storage: the names to sweep, in the order they were considered; the batch is the last `batchSize` of
/// them. When the shell hands over the start-up listing itself (`adopt`) and the names are then considered in
/// that listing's order, the list is one bit per listed name in the listing's own storage (which the
/// engine holds anyway until it is scheduled), not a second array of every name (16 bytes a name: 16 MiB
/// at the peak of a start-up with a million future files). A name out of that order turns the marks into
/// the plain list, so what is swept and in which order never depend on the storage.
struct StartupSweep: Sendable {
    /// Files read per turn, so that due calls, ended calls and archives go on meanwhile.
    static let batchSize = 256

    /// The names to sweep, in the order considered, while no listing is adopted.
    private var names: [String] = []
    /// The adopted start-up listing, and one bit per name of it: to be swept.
    private var listing: [String] = []
    private var marks: [UInt64] = []
    /// The index in `listing` of the name `consider` expects next.
    private var cursor = 0
    /// Every mark is below this index.
    private var top = 0
    /// Marks set and not yet swept.
    private var marked = 0
    /// Whether this turn had its batch.
    private var sweptThisTurn = false

    var isEmpty: Bool { count == 0 }
    var count: Int { names.count + marked }

    /// Takes `listing` as the storage of the list, for names considered in its order from its first on.
    /// Only before anything is considered; otherwise nothing changes.
    mutating func adopt(_ listing: [String]) {
        guard self.listing.isEmpty, names.isEmpty, !listing.isEmpty else { return }
        self.listing = listing
        marks = Array(repeating: 0, count: (listing.count + 63) / 64)
        (cursor, top, marked) = (0, 0, 0)
    }

    /// Makes room for `count` more names (the whole listing at once, with its first batch of lstats); no room
    /// is needed while the names are marks in an adopted listing.
    mutating func reserve(_ count: Int) {
        if listing.isEmpty { names.reserveCapacity(names.count + count) }
    }

    /// A listed name is swept when it is a regular file whose mtime lies ahead.
    mutating func consider(_ name: String, _ info: EntryInfo?, now: SpoolInstant) {
        let swept = info.map { $0.kind == .regular && $0.mtime > now } ?? false
        if !listing.isEmpty {
            // The same string as the listing's (one storage): equal at once, without comparing the bytes.
            if cursor < listing.count, listing[cursor] == name {
                if swept {
                    marks[cursor >> 6] |= 1 << UInt64(cursor & 63)
                    marked += 1
                    top = cursor + 1
                }
                cursor += 1
                return
            }
            unadopt()
        }
        if swept { names.append(name) }
    }

    /// The marks as the plain list (the names marked, in the listing's order), and the listing let go.
    private mutating func unadopt() {
        var kept: [String] = []
        kept.reserveCapacity(marked + listing.count - cursor)
        for index in 0..<top where marks[index >> 6] & (1 << UInt64(index & 63)) != 0 { kept.append(listing[index]) }
        names = kept
        (listing, marks, cursor, top, marked) = ([], [], 0, 0, 0)
    }

    /// The listing is complete: with nothing to sweep, the capacity reserved for it is let go.
    mutating func listingDone() {
        if isEmpty { (names, listing, marks, cursor, top) = ([], [], [], 0, 0) }
    }

    /// The next batch (the last `batchSize` names, each through `read`), once per turn; nil when this turn
    /// had its batch or nothing is left. The batch is built before the list shrinks: a slice still sharing
    /// the list's storage would copy all of it.
    mutating func nextBatch<Read>(_ read: (String) -> Read?) -> [Read]? {
        guard !sweptThisTurn, !isEmpty else { return nil }
        sweptThisTurn = true
        guard !listing.isEmpty else {
            let batch = names[max(0, names.count - Self.batchSize)...].compactMap(read)
            if names.count > Self.batchSize { names.removeLast(Self.batchSize) } else { names = [] }
            return batch
        }
        // The highest marks first (the last names considered), cleared as they are taken.
        var taken: [Int] = []
        taken.reserveCapacity(min(Self.batchSize, marked))
        var word = (top - 1) >> 6
        let bitsBelowTop = top - word * 64
        var bits = marks[word] & (bitsBelowTop == 64 ? ~0 : (1 << UInt64(bitsBelowTop)) - 1)
        while taken.count < min(Self.batchSize, marked) {
            if bits == 0 {
                word -= 1
                bits = marks[word]
                continue
            }
            let bit = 63 - bits.leadingZeroBitCount
            bits &= ~(1 << UInt64(bit))
            marks[word] &= ~(1 << UInt64(bit))
            taken.append(word * 64 + bit)
        }
        marked -= taken.count
        top = taken.last ?? 0
        let batch = taken.reversed().compactMap { read(listing[$0]) }
        if marked == 0 { (listing, marks, cursor, top) = ([], [], 0, 0) }
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
