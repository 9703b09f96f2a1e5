import Synchronization
import Testing
import TestSupport
@testable import Spooler

/// The engine's timed wait: it ends at the deadline or at the first post, whichever comes first, and a wait
/// ended by a post leaves no timer behind (each engine turn waits again; left-over timers would pile up).
@Suite("Engine inbox")
struct InboxTests {
    @Test("A timed wait ends when the clock reaches its deadline, not before")
    func endsAtTheDeadline() async throws {
        let clock = ManualSpoolClock(now: SpoolInstant(seconds: 100))
        let inbox = Inbox()
        let ended = Flag()
        let waiting = Task {
            await inbox.wait(until: SpoolInstant(seconds: 105), clock: clock)
            ended.set()
        }
        try await waitUntil("the wait's timer is set") { clock.sleeperCount == 1 }
        clock.advance(to: SpoolInstant(seconds: 104))
        #expect(clock.sleeperCount == 1)
        #expect(!ended.isSet)
        clock.advance(to: SpoolInstant(seconds: 105))
        await waiting.value
        #expect(ended.isSet)
        #expect(inbox.take().isEmpty)
    }

    @Test("A post ends a timed wait at once and cancels its timer")
    func postEndsTheWait() async throws {
        let clock = ManualSpoolClock(now: SpoolInstant(seconds: 100))
        let inbox = Inbox()
        let waiting = Task { await inbox.wait(until: SpoolInstant(seconds: 200), clock: clock) }
        try await waitUntil("the wait's timer is set") { clock.sleeperCount == 1 }
        inbox.post(.stop)
        await waiting.value
        try await waitUntil("the timer is cancelled") { clock.sleeperCount == 0 }
        #expect(inbox.take().count == 1)
    }

    @Test("A deadline already passed does not wait")
    func pastDeadline() async {
        let clock = ManualSpoolClock(now: SpoolInstant(seconds: 100))
        await Inbox().wait(until: SpoolInstant(seconds: 100), clock: clock)
        #expect(clock.sleeperCount == 0)
    }
}

private final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .sequentiallyConsistent) }
    var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
}
