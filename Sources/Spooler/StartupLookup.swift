import Glibc

/// The lstat of every name of the start-up listing, made on two threads: the engine's and a helper task on
/// Swift's pool, whose other thread is idle while the engine's start-up holds its actor. With a million
/// names the lstats are about two thirds of the start-up and the core's intake the rest; on one thread they
/// add up, on two they overlap. The results come out in the listing's order, one batch of `batchSize`
/// names at a time, exactly as the engine made them before alone.
///
/// Sharing: batches are claimed in order. The helper claims the next one and lstats it, staying at most
/// `lookAhead` batches ahead of the engine (so that at most that many batches of lstats, 72 bytes a name,
/// are held at once). The engine, when the batch it needs next is still in the helper's hands, lstats the
/// next unclaimed one itself instead of waiting, so neither thread idles while there is work.
///
/// The helper is a task, not a thread of its own: a thread more would be one more in the process's peak
/// (the engine benchmark counts them). It never waits: when it is `lookAhead` batches ahead it ends, and the
/// engine starts it again as it takes a batch. So it holds a pool thread only while it lstats, and a batch
/// it has claimed is always being lstat'ed by a running thread: the engine's wait for it always ends, even
/// on a pool of one thread.
final class StartupLookup: @unchecked Sendable {
    // @unchecked: `next`, `taken`, `done`, `helping` and `abandoned` are touched only under `lock`; `names`,
    // `directory` and `helps` are read-only.
    typealias Batch = [(String, EntryInfo?)]

    static let batchSize = 4096
    /// A listing of fewer batches than this is lstat'ed on the engine's thread alone (no helper started).
    static let helperFrom = 3
    static let lookAhead = 8

    private let names: [String]
    private let directory: SpoolDirectory
    let batchCount: Int
    var count: Int { names.count }

    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// The first batch nobody has claimed.
    private var next = 0
    /// Batches the engine has taken (all before this index).
    private var taken = 0
    /// Set when the engine gives up (the listing failed): the helper claims nothing more.
    private var abandoned = false
    /// Batches lstat'ed and not yet taken, by index.
    private var done: [Batch?]
    /// The helper task is running (or about to run); never more than one.
    private var helping = false
    private let helps: Bool

    /// Starts the helper when the listing is long enough to be worth it.
    init(names: [String], in directory: SpoolDirectory) {
        self.names = names
        self.directory = directory
        batchCount = (names.count + Self.batchSize - 1) / Self.batchSize
        done = Array(repeating: nil, count: batchCount)
        pthread_mutex_init(lock, nil)
        pthread_cond_init(changed, nil)
        helps = batchCount >= Self.helperFrom
        pthread_mutex_lock(lock)
        let start = helperNeeded()
        pthread_mutex_unlock(lock)
        if start { startHelper() }
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(lock)
        lock.deallocate()
        changed.deallocate()
    }

    /// What the engine made alone before: each name with its lstat; dot names (a crash's rewrite
    /// temporaries, taken care of by name) are not looked at.
    private func lookUp(_ index: Int) -> Batch {
        let start = index * Self.batchSize
        return names[start..<min(start + Self.batchSize, names.count)].map { ($0, $0.hasPrefix(".") ? nil : directory.info($0)) }
    }

    /// Whether a helper should start now: none runs, and a batch within the look-ahead is unclaimed. Marks it
    /// running. Call with `lock` held.
    private func helperNeeded() -> Bool {
        guard helps, !helping, !abandoned, next < batchCount, next < taken + Self.lookAhead else { return false }
        helping = true
        return true
    }

    private func startHelper() {
        Task.detached { self.help() }
    }

    /// Claims the next batch, lstats it with `lock` released, and leaves it in `done`: the helper's step, and
    /// the engine's while the batch it needs is in the helper's hands. Call with `lock` held; returns with it held.
    private func lookUpNextUnclaimed() {
        let index = next
        next += 1
        pthread_mutex_unlock(lock)
        let batch = lookUp(index)
        pthread_mutex_lock(lock)
        done[index] = batch
    }

    /// The helper's work: claim, lstat, hand over, until it is `lookAhead` ahead or every batch is claimed.
    private func help() {
        pthread_mutex_lock(lock)
        while !abandoned, next < batchCount, next < taken + Self.lookAhead {
            lookUpNextUnclaimed()
            pthread_cond_broadcast(changed)
        }
        helping = false
        pthread_mutex_unlock(lock)
    }

    /// The engine's next batch (call with 0, 1, … `batchCount - 1` in turn). Once the last is taken the helper
    /// has ended.
    func batch(_ index: Int) -> Batch {
        pthread_mutex_lock(lock)
        var result: Batch
        while true {
            if let ready = done[index] {
                done[index] = nil
                result = ready
                break
            }
            // Not claimed yet (the helper is behind, or there is none): this one is the engine's.
            if next == index {
                next += 1
                pthread_mutex_unlock(lock)
                result = lookUp(index)
                pthread_mutex_lock(lock)
                break
            }
            // The helper has it: lstat a later one meanwhile rather than wait, within the look-ahead.
            if next < batchCount, next < index + Self.lookAhead {
                lookUpNextUnclaimed()
                continue
            }
            pthread_cond_wait(changed, lock)
        }
        taken = index + 1
        let start = helperNeeded()  // it ended at the look-ahead: there is room again
        pthread_mutex_unlock(lock)
        if start { startHelper() }
        return result
    }

    /// The listing is not used after all: the helper stops after its current batch (it holds this object
    /// until then).
    func abandon() {
        pthread_mutex_lock(lock)
        abandoned = true
        pthread_mutex_unlock(lock)
    }
}
