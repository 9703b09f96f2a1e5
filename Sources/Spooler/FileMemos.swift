import CallFile

/// What spoold remembers about one file beyond its state: the facts it could not write into the file or that
/// the file cannot show (contract §2.8: attempts whose records were refused, an mtime it cannot set, how often
/// the StartRetry was refused in a row), the mtime it gave a file a calling window holds, whether a skip was
/// warned about, and what the last read said (for `spoold queue`). One per entry of `SpoolStateMachine.files`.
///
/// A type of its own because the rules about these facts belong together and are tested on their own: which
/// mtime is spoold's own and so no touch, when refused records give up, what an attempt's end and a new file
/// forget. A pure value; the core decides when each rule applies.
///
/// Almost every file has none, and there is one entry per file in outgoing/: the fields live in a box that
/// exists only while one differs from its default, so an entry without memos costs one null pointer. New
/// memos go into `Fields`, with an accessor here, so that the core's `Entry` stays four words.
struct FileMemos: Equatable, Sendable {
    struct Fields: Equatable, Sendable {
        /// Attempts known to be over that the file's records may not show.
        var rememberedAttempts = 0
        /// The mtime a file keeps because spoold cannot set it, so that it is not mistaken for a touch.
        var stuckMtime: SpoolInstant?
        /// How often in a row the file refused its StartRetry record for lack of permission.
        var refusedRecordWrites = 0
        /// The mtime spoold gave a file a window holds: the watcher's report of it is not a touch.
        var heldUntil: SpoolInstant?
        var warnedSkipped = false
        /// What the last read of the file said, for `spoold queue` (nil until spoold has read it).
        var summary: SpoolStateMachine.FileSummary?
    }

    /// A file that refuses spoold's records this many times in a row is failed and moved aside (§2.8, §5).
    static let recordWriteRefusalLimit = 3

    /// A value type boxed on the heap: nil means every field is at its default (a box of defaults is
    /// dropped, so a file whose memos are all cleared costs no box again).
    private indirect enum Box: Sendable { case fields(Fields) }
    private var box: Box?
    /// Whether the memos take a box (any field away from its default).
    var isBoxed: Bool { box != nil }

    static func == (lhs: FileMemos, rhs: FileMemos) -> Bool { lhs.fields == rhs.fields }

    init(rememberedAttempts: Int = 0, stuckMtime: SpoolInstant? = nil, refusedRecordWrites: Int = 0,
         heldUntil: SpoolInstant? = nil, warnedSkipped: Bool = false, summary: SpoolStateMachine.FileSummary? = nil) {
        fields = Fields(rememberedAttempts: rememberedAttempts, stuckMtime: stuckMtime,
                        refusedRecordWrites: refusedRecordWrites, heldUntil: heldUntil, warnedSkipped: warnedSkipped,
                        summary: summary)
    }

    var fields: Fields {
        get { if case .fields(let fields)? = box { fields } else { Fields() } }
        set { box = newValue == Fields() ? nil : .fields(newValue) }
    }

    // Each setter writes only a change, so that setting a default on a file without memos makes no box.
    var rememberedAttempts: Int {
        get { fields.rememberedAttempts }
        set { if newValue != rememberedAttempts { fields.rememberedAttempts = newValue } }
    }
    var stuckMtime: SpoolInstant? {
        get { fields.stuckMtime }
        set { if newValue != stuckMtime { fields.stuckMtime = newValue } }
    }
    var refusedRecordWrites: Int {
        get { fields.refusedRecordWrites }
        set { if newValue != refusedRecordWrites { fields.refusedRecordWrites = newValue } }
    }
    var heldUntil: SpoolInstant? {
        get { fields.heldUntil }
        set { if newValue != heldUntil { fields.heldUntil = newValue } }
    }
    var warnedSkipped: Bool {
        get { fields.warnedSkipped }
        set { if newValue != warnedSkipped { fields.warnedSkipped = newValue } }
    }
    var summary: SpoolStateMachine.FileSummary? { get { fields.summary } set { fields.summary = newValue } }

    /// Whether `mtime` is one spoold gave the file (a window holds it) or cannot change (the times were
    /// refused): the watcher's report of it, or finding it when due, is then no touch by someone else.
    func isOwn(mtime: SpoolInstant) -> Bool {
        guard isBoxed else { return false }  // most files: no memos, nothing to compare
        return stuckMtime == mtime || heldUntil == mtime
    }

    /// The attempts over: what the file's records count, or more when spoold could not write them.
    func attemptsMade(_ file: CallFile) -> Int { max(file.finishedAttempts, rememberedAttempts) }

    /// Counts a StartRetry refused for lack of permission. True when that makes `recordWriteRefusalLimit` in
    /// a row: the file is then failed, and the count starts again.
    mutating func recordWriteRefused() -> Bool {
        let refusals = refusedRecordWrites + 1
        refusedRecordWrites = refusals < Self.recordWriteRefusalLimit ? refusals : 0
        return refusals >= Self.recordWriteRefusalLimit
    }

    /// Notes the mtime the file keeps because its times cannot be set. True the first time (one warning per
    /// file, not one per attempt).
    mutating func timesRefused(keeping mtime: SpoolInstant) -> Bool {
        let first = stuckMtime == nil
        stuckMtime = mtime
        return first
    }

    /// True once per file: the first time it is skipped as not a call file (one warning per name).
    mutating func skipped() -> Bool {
        if warnedSkipped { return false }
        warnedSkipped = true
        return true
    }

    /// A new file took the name (replaced while its call was in flight): nothing about the old one holds, but
    /// a skip already warned about is not warned about again.
    mutating func newFile() { self = FileMemos(warnedSkipped: warnedSkipped) }

    /// An attempt's memos are over: the count kept in memory and the time memos.
    mutating func clearAttemptMemos() {
        rememberedAttempts = 0
        clearTimeMemos()
    }

    /// Not an mtime spoold cannot set, nor the one it gave a held file.
    mutating func clearTimeMemos() {
        stuckMtime = nil
        heldUntil = nil
    }
}
