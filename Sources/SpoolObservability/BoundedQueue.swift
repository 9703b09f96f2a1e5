import DequeModule
import Synchronization

/// A FIFO with a fixed capacity between a producer that must never wait (the event consumer) and
/// consumers that may (a writer, hook workers). `push` refuses when full instead of blocking.
final class BoundedQueue<Element: Sendable>: Sendable {
    private struct State {
        var items: Deque<Element> = []
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        var nextWaiter: UInt64 = 0
        var finished = false
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    enum PushResult: Equatable { case queued, full, finished }

    func push(_ element: Element) -> PushResult {
        let (result, wake): (PushResult, CheckedContinuation<Void, Never>?) = state.withLock { state in
            if state.finished { return (.finished, nil) }
            if state.items.count >= capacity { return (.full, nil) }
            state.items.append(element)
            return (.queued, state.waiters.isEmpty ? nil : state.waiters.removeFirst().continuation)
        }
        wake?.resume()
        return result
    }

    /// No more elements: consumers get what is queued, then nil.
    func finish() {
        let waiters = state.withLock { state in
            state.finished = true
            defer { state.waiters.removeAll() }
            return state.waiters.map(\.continuation)
        }
        for waiter in waiters { waiter.resume() }
    }

    var count: Int { state.withLock { $0.items.count } }

    /// The next element; nil once finished and empty, or when the task is cancelled.
    func pop() async -> Element? {
        await take { state in state.items.popFirst().map { [$0] } }?.first
    }

    /// Everything queued (at least one element); nil once finished and empty, or when cancelled.
    func popAll() async -> [Element]? {
        await take { state in
            guard !state.items.isEmpty else { return nil }
            defer { state.items.removeAll(keepingCapacity: true) }
            return Array(state.items)
        }
    }

    private enum Step { case got([Element]), done, wait(UInt64) }

    private func take(_ body: @Sendable (inout State) -> [Element]?) async -> [Element]? {
        while true {
            if Task.isCancelled { return nil }
            let step: Step = state.withLock { state in
                if let items = body(&state) { return .got(items) }
                if state.finished { return .done }
                state.nextWaiter += 1
                return .wait(state.nextWaiter)
            }
            switch step {
            case .got(let items): return items
            case .done: return nil
            case .wait(let id):
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let resumeNow = state.withLock { state -> Bool in
                            if !state.items.isEmpty || state.finished || Task.isCancelled { return true }
                            state.waiters.append((id, continuation))
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                        guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                        return state.waiters.remove(at: index).continuation
                    }
                    waiter?.resume()
                }
            }
        }
    }
}
