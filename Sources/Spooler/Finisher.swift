import CallFile
import Dispatch
import Synchronization

/// Completes archives (the Status line and the final rename, steps 2–3 of `Archiver`) on a serial queue of
/// its own, so that the engine's actor goes on with other files meanwhile, and hands the results back in
/// batches.
///
/// Why: archiving is most of what a file costs. Step 1 (out of `outgoing/`) stays on the actor, right
/// where the attempt ends, so that a crash is never more likely than before to find a finished call still
/// in `outgoing/` (where recovery would count it as aborted and dial again); after step 1 a crash is
/// recovered by `Archiver.recoverStaged` whatever the queue holds. One queue outside Swift's small
/// concurrency pool: the steps block in the kernel (directory locks), and need no parallelism of their own.
///
/// The engine keeps a handed-off name busy until it has taken the result.
final class Finisher: Sendable {
    struct Step: Sendable {
        var name: String
        /// The name `Archiver.stage` gave the file in `outgoing_done/`.
        var staging: String
        var status: CallStatus
        var summary: String
    }

    struct Done: Sendable {
        var step: Step
        /// The file's name in `outgoing_done/`, or the error that left it staged.
        var result: Result<String, SystemError>
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

    /// Runs `step` after the steps handed over before it. When its result is the first of a batch,
    /// `collect` is called (on the queue) to have the batch taken with `takeResults`.
    func start(_ step: Step, collect: @escaping @Sendable () -> Void) {
        let archiver = self.archiver
        queue.async {
            let result = Result { () throws(SystemError) -> String in
                try archiver.complete(step.staging, as: step.name, status: step.status)
            }
            let first = self.results.withLock { results in
                results.done.append(Done(step: step, result: result))
                defer { results.collecting = true }
                return !results.collecting
            }
            if first { collect() }
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
