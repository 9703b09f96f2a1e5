import Synchronization

/// The engine's one inbox: everything that happens outside its loop (watcher changes, call stages, archive
/// moves, recovery answers, reloads, stop) is posted here from any thread; the loop takes it all at once,
/// so many calls' news cost one wake-up. Posts are kept until taken, so none is lost between a check and a
/// wait.
final class Inbox: Sendable {
    private struct State {
        var events: [SpoolStateMachine.Event] = []
        /// A wake-up without news (the backend can take calls again).
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
        /// The task that rings at the deadline the loop last waited for. It outlives the wait: a loop woken
        /// by news waits again for the same deadline (the next paced call) most of the time, and finds
        /// its timer still armed instead of arming one more (each costs thread wake-ups on Linux).
        var timer: (id: UInt64, deadline: SpoolInstant, task: Task<Void, Never>)?
        var lastTimerID: UInt64 = 0
    }
    private let state = Mutex(State())
    private let stopFlag = Atomic<Bool>(false)

    func post(_ event: SpoolStateMachine.Event) { post(CollectionOfOne(event)) }

    func post(_ events: some Collection<SpoolStateMachine.Event>) {
        if events.contains(where: { if case .stop = $0 { true } else { false } }) { stopFlag.store(true, ordering: .relaxed) }
        let waiter = state.withLock { state in
            state.events.append(contentsOf: events)
            return state.waiter.take()
        }
        waiter?.resume()
    }

    func ring() {
        let waiter = state.withLock { state in
            state.rung = true
            return state.waiter.take()
        }
        waiter?.resume()
    }

    /// Room the inbox holds for events not yet posted (tests: `take` hands its buffer over).
    var heldCapacity: Int { state.withLock { $0.events.capacity } }

    /// True once a stop was posted: the loop ends a burst early to take it.
    var stopPosted: Bool { stopFlag.load(ordering: .relaxed) }

    /// Everything posted since the last call, in the order it came.
    func take() -> [SpoolStateMachine.Event] {
        state.withLock { state in
            state.rung = false
            // Handed over, not copied: returning the array and then emptying it "keeping capacity" made
            // a second buffer as large as the first while the loop still held the first, and kept it for
            // good. In a burst of 20,000 files that was the largest block at the peak of the heap.
            var taken: [SpoolStateMachine.Event] = []
            swap(&taken, &state.events)
            return taken
        }
    }

    /// Returns at the next post (or at once if one is waiting), or when the task is cancelled.
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.rung || !state.events.isEmpty || Task.isCancelled { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            ring()
        }
    }

    /// Waits for a post or for `deadline` on `clock`, whichever comes first. Only the engine's loop calls it.
    func wait(until deadline: SpoolInstant?, clock: any SpoolClock) async {
        guard let deadline else { return await wait() }
        if deadline <= clock.now() { return }
        armTimer(for: deadline, clock: clock)
        await wait()
    }

    /// Makes sure the inbox rings by `deadline`. A timer already armed for that deadline or an earlier one
    /// is kept (an earlier one wakes the loop, which then waits again); a later one is replaced.
    private func armTimer(for deadline: SpoolInstant, clock: any SpoolClock) {
        // Made and recorded under the lock, so the timer cannot fire before it is known as the current one.
        let replaced: Task<Void, Never>? = state.withLock { locked in
            if let timer = locked.timer, timer.deadline <= deadline { return nil }
            locked.lastTimerID += 1
            let id = locked.lastTimerID
            let task = Task { [self] in
                do { try await clock.sleep(until: deadline) } catch { return }
                if takeTimer(id) { ring() }
            }
            defer { locked.timer = (id, deadline, task) }
            return locked.timer?.task
        }
        replaced?.cancel()
    }

    /// True when timer `id` was still the current one (it is no longer): only then may it ring.
    private func takeTimer(_ id: UInt64) -> Bool {
        state.withLock { state in
            guard state.timer?.id == id else { return false }
            state.timer = nil
            return true
        }
    }

    /// How many timers were armed so far (tests: a deadline waited for again arms none).
    var timersArmed: UInt64 { state.withLock { $0.lastTimerID } }

    /// The loop has ended: no timer may ring for it any more.
    func cancelTimer() {
        state.withLock { $0.timer.take() }?.task.cancel()
    }
}
