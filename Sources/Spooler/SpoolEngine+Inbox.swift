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

    /// True once a stop was posted: the loop ends a burst early to take it.
    var stopPosted: Bool { stopFlag.load(ordering: .relaxed) }

    /// Everything posted since the last call, in the order it came.
    func take() -> [SpoolStateMachine.Event] {
        state.withLock { state in
            state.rung = false
            defer { state.events.removeAll(keepingCapacity: true) }
            return state.events
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

    /// Waits for a post or for `deadline` on `clock`, whichever comes first.
    func wait(until deadline: SpoolInstant?, clock: any SpoolClock) async {
        guard let deadline else { return await wait() }
        if deadline <= clock.now() { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wait() }
            group.addTask { try? await clock.sleep(until: deadline) }
            await group.next()
            group.cancelAll()
        }
    }
}
