import NIOConcurrencyHelpers
import NIOCore
import Spooler

/// The wall clock, with its timers on a NIO event loop. Swift concurrency runs on that loop (`SpooldMain`), so
/// the engine's timed waits wake no thread but the one that runs the engine; a sleeping task's timer would
/// wake a dispatch thread first, which then wakes the loop.
struct EventLoopSpoolClock: SpoolClock {
    let eventLoop: any EventLoop
    private let system = SystemSpoolClock()

    init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func now() -> SpoolInstant { system.now() }

    func sleep(until deadline: SpoolInstant) async throws { try await system.sleep(until: deadline) }

    func wake(at deadline: SpoolInstant, _ body: @escaping @Sendable () -> Void) -> any SpoolTimer {
        let timer = EventLoopTimer()
        timer.arm(deadline: deadline, clock: self, body: body)
        return timer
    }
}

/// One `wake`: re-armed in steps of at most a second, re-reading the wall clock each time, because it may be
/// stepped meanwhile (as `SystemSpoolClock.sleep` does).
final class EventLoopTimer: SpoolTimer {
    private struct State {
        var cancelled = false
        var scheduled: Scheduled<Void>?
    }
    private let state = NIOLockedValueBox(State())

    func arm(deadline: SpoolInstant, clock: EventLoopSpoolClock, body: @escaping @Sendable () -> Void) {
        let remaining = deadline.nanoseconds - clock.now().nanoseconds
        guard remaining > 0 else {
            if !state.withLockedValue({ $0.cancelled }) { body() }
            return
        }
        let scheduled = clock.eventLoop.scheduleTask(in: .nanoseconds(min(remaining, 1_000_000_000))) { [self] in
            arm(deadline: deadline, clock: clock, body: body)
        }
        let keep = state.withLockedValue { state -> Bool in
            if state.cancelled { return false }
            state.scheduled = scheduled
            return true
        }
        if !keep { scheduled.cancel() }
    }

    func cancel() {
        let scheduled = state.withLockedValue { state -> Scheduled<Void>? in
            state.cancelled = true
            defer { state.scheduled = nil }
            return state.scheduled
        }
        scheduled?.cancel()
    }
}
