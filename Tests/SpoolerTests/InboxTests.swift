import Testing
@testable import Spooler

/// The engine inbox's timed wait: one timer per deadline, kept while the loop is woken by news and waits
/// for the same deadline again; replaced only by an earlier one.
@Suite("Engine inbox: waiting for news or a deadline")
struct InboxTests {
    static let start = SpoolInstant(seconds: 1_000_000)

    /// Lets other tasks run until `condition` holds (a timer's sleep registers on the manual clock from
    /// its own task).
    static func settle(_ condition: () -> Bool) async {
        for _ in 0..<10_000 where !condition() { await Task.yield() }
        #expect(condition())
    }

    @Test("take hands everything posted over, in order, and the inbox keeps no buffer of that size")
    func takeHandsTheBufferOver() {
        func names(_ events: [SpoolStateMachine.Event]) -> [String] {
            events.map { event in
                switch event {
                case .change(.appeared(let name)), .change(.removed(let name)): name
                default: "?"
                }
            }
        }
        let inbox = Inbox()
        let sent = (0..<10_000).map { "f\($0).call" }
        let burst = sent.map { SpoolStateMachine.Event.change(.appeared($0)) }
        inbox.post(burst[..<4_000])
        inbox.post(burst[4_000...])
        #expect(names(inbox.take()) == sent)
        #expect(inbox.heldCapacity == 0, "a burst's buffer is not kept (nor a copy of it made) once taken")
        inbox.post(.change(.removed("next.call")))
        #expect(names(inbox.take()) == ["next.call"])
        #expect(inbox.take().isEmpty)
    }

    @Test("The wait ends at the deadline")
    func endsAtTheDeadline() async {
        let (inbox, clock) = (Inbox(), ManualSpoolClock(now: Self.start))
        let waiting = Task { await inbox.wait(until: Self.start.adding(seconds: 10), clock: clock) }
        await Self.settle { clock.sleeperCount == 1 }
        clock.advance(by: .seconds(10))
        await waiting.value
        #expect(inbox.take().isEmpty)
        #expect(clock.sleeperCount == 0)
    }

    @Test("Woken by news, the loop waits for the same deadline again: no second timer")
    func sameDeadlineKeepsTheTimer() async {
        let (inbox, clock) = (Inbox(), ManualSpoolClock(now: Self.start))
        let deadline = Self.start.adding(seconds: 10)
        for round in 0..<3 {
            let waiting = Task { await inbox.wait(until: deadline, clock: clock) }
            await Self.settle { clock.sleeperCount == 1 }
            inbox.post(.stop)
            await waiting.value
            #expect(inbox.take().count == 1, "round \(round)")
        }
        #expect(inbox.timersArmed == 1)
        // A later deadline keeps the earlier timer too: it rings first, and the loop waits again.
        let later = Task { await inbox.wait(until: deadline.adding(seconds: 5), clock: clock) }
        await Self.settle { clock.sleeperCount == 1 }
        #expect(inbox.timersArmed == 1)
        clock.advance(to: deadline)
        await later.value
        #expect(inbox.take().isEmpty, "woken by the timer, with no news")
        #expect(clock.sleeperCount == 0)
    }

    @Test("An earlier deadline replaces the timer, and the replaced one never rings")
    func earlierDeadlineReplacesTheTimer() async {
        let (inbox, clock) = (Inbox(), ManualSpoolClock(now: Self.start))
        let first = Task { await inbox.wait(until: Self.start.adding(seconds: 10), clock: clock) }
        await Self.settle { clock.sleeperCount == 1 }
        inbox.post(.stop)
        await first.value
        _ = inbox.take()
        let second = Task { await inbox.wait(until: Self.start.adding(seconds: 2), clock: clock) }
        await Self.settle { inbox.timersArmed == 2 && clock.sleeperCount == 1 }
        clock.advance(by: .seconds(2))
        await second.value
        #expect(clock.sleeperCount == 0, "the 10 s timer was cancelled, not left asleep")
        // Nothing rings for the cancelled deadline: a wait without one ends only with news.
        clock.advance(by: .seconds(20))
        let third = Task { await inbox.wait() }
        for _ in 0..<1_000 { await Task.yield() }
        inbox.post(.stop)
        await third.value
        #expect(inbox.take().count == 1)
    }

    @Test("A timer that rings while the loop is busy makes its next wait return at once")
    func ringWhileBusyIsKept() async {
        let (inbox, clock) = (Inbox(), ManualSpoolClock(now: Self.start))
        let waiting = Task { await inbox.wait(until: Self.start.adding(seconds: 10), clock: clock) }
        await Self.settle { clock.sleeperCount == 1 }
        inbox.post(.stop)
        await waiting.value
        _ = inbox.take()
        // The loop is busy (not waiting) when the kept timer's deadline passes.
        clock.advance(by: .seconds(10))
        await Self.settle { inbox.timersArmed == 1 && clock.sleeperCount == 0 }
        await inbox.wait()
        #expect(inbox.take().isEmpty)
    }

    @Test("The loop's end cancels its timer")
    func cancelTimer() async {
        let (inbox, clock) = (Inbox(), ManualSpoolClock(now: Self.start))
        let waiting = Task { await inbox.wait(until: Self.start.adding(seconds: 3600), clock: clock) }
        await Self.settle { clock.sleeperCount == 1 }
        inbox.post(.stop)
        await waiting.value
        inbox.cancelTimer()
        await Self.settle { clock.sleeperCount == 0 }
    }
}
