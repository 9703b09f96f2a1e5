import CallFile
import Dispatch
import Synchronization

/// Moves marked files into `outgoing_done/` (step 2 of `Archiver`) on a serial queue of its own, so that the
/// engine's loop goes on with other files meanwhile; each result goes into the engine's inbox.
///
/// Why: the rename between two large directories is most of what a file costs, and it waits on the file
/// system's rename lock. Step 1 (the Status line) stays on the loop, right where the attempt ends, so a crash
/// never finds a finished call looking unfinished; after step 1 a crash is recovered at the next start
/// whatever the queue holds. One queue outside Swift's small concurrency pool: the steps block in the kernel
/// (directory locks), and need no parallelism of their own.
///
/// The engine keeps a handed-off name busy (`moving`) until it has taken the result.
final class Finisher: Sendable {
    struct Step: Sendable {
        var name: String
        /// The file `Archiver.markFinished` marked: only that file leaves `outgoing/`.
        var file: FileID
    }

    private let archiver: Archiver
    private let inbox: Inbox
    private let queue = DispatchQueue(label: "spoold.finishing")

    init(archiver: Archiver, inbox: Inbox) {
        self.archiver = archiver
        self.inbox = inbox
    }

    /// Batches handed to the queue and not yet done.
    private let queued = Atomic<Int>(0)

    /// Runs `steps` in order, after the steps handed over before them. A lone step with nothing queued
    /// before it (a call ending on its own, at a paced rate) is done at once on the caller's thread: one
    /// rename costs less than the two thread wake-ups of a trip through the queue and back. Either way
    /// the result comes through the inbox, so the engine takes it as it always does.
    func start(_ steps: [Step]) {
        if steps.count == 1, queued.load(ordering: .acquiring) == 0 {
            inbox.post(Self.move(steps[0], archiver: archiver))
            return
        }
        queued.add(1, ordering: .relaxed)
        queue.async { [self] in
            // The results of a batch go into the inbox `postEvery` at a time, in order: one post (and at
            // most one wake-up of the loop) for many renames, while the first results of a large batch
            // are not held back until its last rename.
            var results: [SpoolStateMachine.Event] = []
            results.reserveCapacity(min(steps.count, Self.postEvery))
            for step in steps {
                results.append(Self.move(step, archiver: archiver))
                if results.count == Self.postEvery {
                    inbox.post(results)
                    results.removeAll(keepingCapacity: true)
                }
            }
            if !results.isEmpty { inbox.post(results) }
            queued.subtract(1, ordering: .releasing)
        }
    }

    /// How many archive results the queue posts at once.
    static let postEvery = 64

    /// Whether a lone step would be done on the caller's thread now (tests).
    var isIdle: Bool { queued.load(ordering: .acquiring) == 0 }

    private static func move(_ step: Step, archiver: Archiver) -> SpoolStateMachine.Event {
        let result = Result { () throws(SystemError) -> String? in try archiver.moveMarked(step.name, file: step.file) }
        return .archived(step.name, result.mapError { SpoolEngine.failure($0, info: nil) })
    }
}
