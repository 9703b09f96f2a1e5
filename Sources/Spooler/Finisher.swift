import CallFile
import Dispatch
import Synchronization

/// Moves marked files into `outgoing_done/` (step 2 of `Archiver`) on a serial queue of its own, so that the
/// engine's actor goes on with other files meanwhile, and hands the results back in batches.
///
/// Why: the rename between two large directories is most of what a file costs, and it waits on the file
/// system's rename lock. Step 1 (the Status line) stays on the actor, right where the attempt ends, so a
/// crash never finds a finished call looking unfinished; after step 1 a crash is recovered at the next
/// start whatever the queue holds. One queue outside Swift's small concurrency pool: the steps block in
/// the kernel (directory locks), and need no parallelism of their own.
///
/// The engine keeps a handed-off name busy until it has taken the result.
final class Finisher: Sendable {
    struct Step: Sendable {
        var name: String
        /// The file `Archiver.markFinished` marked: only that file leaves `outgoing/`.
        var file: FileID
        var status: CallStatus
        var summary: String
    }

    struct Done: Sendable {
        var step: Step
        /// The file's name in `outgoing_done/` (nil: the name no longer held the marked file), or the error
        /// that left it in `outgoing/`.
        var result: Result<String?, SystemError>
    }

    private struct Results {
        var done: [Done] = []
        /// True from the moment a collection is asked for until it takes the results.
        var collecting = false
    }

    private let archiver: Archiver
    private let queue = DispatchQueue(label: "spoold.finishing")
    private let results = Mutex(Results())

    init(archiver: Archiver) {
        self.archiver = archiver
    }

    /// Runs `steps` in order, after the steps handed over before them. When a result is the first of a
    /// batch, `collect` is called (on the queue) to have the batch taken with `takeResults`.
    func start(_ steps: [Step], collect: @escaping @Sendable () -> Void) {
        let archiver = self.archiver
        queue.async {
            for step in steps {
                let result = Result { () throws(SystemError) -> String? in
                    try archiver.moveMarked(step.name, file: step.file)
                }
                let first = self.results.withLock { results in
                    results.done.append(Done(step: step, result: result))
                    defer { results.collecting = true }
                    return !results.collecting
                }
                if first { collect() }
            }
        }
    }

    /// Every result since the last call, in the order the steps were handed over.
    func takeResults() -> [Done] {
        results.withLock { results in
            results.collecting = false
            defer { results.done.removeAll(keepingCapacity: true) }
            return results.done
        }
    }
}
