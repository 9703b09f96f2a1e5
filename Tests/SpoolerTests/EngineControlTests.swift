import CallFile
import EngineTestSupport
import Testing
@testable import Spooler

/// Queue control (`spoold cancel`, `reschedule`, `queue`) as table tests of the core: what each state of a
/// file allows, and what is done.
@Suite("Engine: queue control (cancel, reschedule, listing)")
struct EngineControlTests {
    let t0 = EngineCoreKit.t0

    /// The states a file can wait in: due time ahead, due (taken off the heap, being decided on), parked,
    /// held by its calling window.
    enum Waiting: String, CaseIterable { case scheduled, due, parked, held }

    /// t0 is 16:13:20 UTC: this window opens 100 s later.
    static let window = CallingRules(windows: [EngineCallingRulesTests.window("16:15-23:00")])

    func call(archive: Bool, channel: String = "Sim/answer/0/5000/trunk-a", retries: Int = 2) -> String {
        callText(["Channel": channel, "Application": "Wait", "MaxRetries": String(retries), "RetryTime": "60",
                  "Archive": archive ? "yes" : "no"])
    }

    /// A kit with `wait.call` waiting in `state` (due at t0+1 min when scheduled).
    func waiting(_ state: Waiting, archive: Bool) -> EngineCoreKit {
        var kit = EngineCoreKit(trunks: [.init(pattern: "Sim/*/trunk-a", maxConcurrent: 1, maxPerSecond: 0)],
                                rules: state == .held ? Self.window : CallingRules())
        kit.start()
        switch state {
        case .scheduled:
            kit.submit("wait.call", call(archive: archive), mtime: t0.adding(seconds: 60))
            kit.tick()
        case .due:
            kit.submit("wait.call", call(archive: archive), mtime: t0)
            // Between being taken off the heap and its read: only inside one step of the loop.
            kit.core.unschedule("wait.call")
            kit.core.set("wait.call", .due)
        case .parked:
            kit.submit("busy.call", call(archive: archive), mtime: t0)
            kit.submit("wait.call", call(archive: archive), mtime: t0.adding(.milliseconds(1)))
            kit.advance(by: .milliseconds(10))
        case .held:
            kit.submit("wait.call", call(archive: archive), mtime: t0)
            kit.tick()
        }
        let expected: SpoolStateMachine.FileState = switch state {
        case .scheduled: .scheduled
        case .due: .due
        case .parked: .parked
        case .held: .held(until: t0.adding(seconds: 100))
        }
        #expect(kit.core.state(of: "wait.call") == expected)
        return kit
    }

    @Test("Cancel of a waiting file finishes it at once as Cancelled: archived (Archive: yes) or deleted, never dialled",
          arguments: Waiting.allCases, [true, false])
    func cancelWaiting(state: Waiting, archive: Bool) throws {
        var kit = waiting(state, archive: archive)
        let reply = kit.cancel("wait.call")
        #expect(reply == .done(archive ? "cancelled; archived with Status: Cancelled" : "cancelled; deleted with Status: Cancelled"))
        kit.completeMoves()
        if archive {
            #expect(kit.done["wait.call"] == call(archive: true) + "Status: Cancelled\n")
            #expect(kit.finished("wait.call").map { $0 == (.cancelled, .archived("wait.call")) } == true)
        } else {
            #expect(kit.done["wait.call"] == nil)
            #expect(kit.finished("wait.call").map { $0 == (.cancelled, .deleted) } == true)
        }
        #expect(kit.outgoing["wait.call"] == nil)
        #expect(kit.logged("[wait.call] cancelled while waiting: not dialled"))
        // Neither its due time nor a free trunk slot dials it.
        kit.report("busy.call", .answered(channel: "x"), .hungUp)
        kit.advance(by: .seconds(120))
        #expect(!kit.dialled.contains("wait.call"))
        #expect(kit.core.trunks.parkedCount == 0)
    }

    @Test("Cancel of a call in flight hangs it up first, then finishes the file as Cancelled (no retry, whatever the outcome)",
          arguments: [false, true])
    func cancelInFlight(answered: Bool) throws {
        let text = call(archive: true, channel: "Sim/answer/5000/5000")
        var kit = EngineOutcomeTests.dialled("live.call", text)
        if answered { kit.report("live.call", .answered(channel: "x"), end: false) }
        guard case .dialling(let attempt)? = kit.core.state(of: "live.call") else { Issue.record("not in flight"); return }
        let reply = kit.cancel("live.call")
        #expect(reply == .done("attempt 1 of 3 on Sim/answer/5000/5000 is in flight: hanging up its call; the file is then finished as Cancelled"))
        #expect(kit.hangUps == [attempt.channelId])
        #expect(kit.finished("live.call") == nil, "finished only when the call has ended")
        #expect(kit.cancel("live.call") == .refused("its call is being hung up already"))
        #expect(kit.hangUps.count == 1)
        // The call ends as a hangup does: reason 1 while ringing, a hangup once answered.
        kit.now = t0.adding(seconds: 2)
        kit.report("live.call", answered ? .hungUp : .failed(reason: 1, text: "Hangup"))
        kit.completeMoves()
        #expect(kit.finished("live.call").map { $0 == (.cancelled, .archived("live.call")) } == true)
        #expect(kit.done["live.call"] == text + "\nStartRetry: 2381 1 (\(t0.seconds + 60))\nStatus: Cancelled\n",
                "no EndRetry: the file is not retried")
        kit.advance(by: .seconds(600))
        #expect(kit.started("live.call") == [1])
    }

    /// Every state in which a file cannot be cancelled or moved, with the reason given.
    enum Busy: String, CaseIterable {
        case starting, ending, checking, finishing, keeping, moving, finishRetry, departed, skipped, cancelling
    }

    /// A kit with `busy.call` in `state`: reached by real events where the state outlives a step of the
    /// loop; set directly for the states that exist only within one step (starting, ending, finishing,
    /// keeping, cancelling), which a request through the inbox never sees but which must still be answered.
    func kit(in state: Busy) -> EngineCoreKit {
        let text = call(archive: true, channel: "Sim/answer")
        var kit = EngineCoreKit()
        kit.start()
        switch state {
        case .checking:
            kit.put("busy.call", text + "\nStartRetry: 9 1 (\(t0.seconds + 60))\n", mtime: t0)
            kit.feed(.change(.appeared("busy.call")))
            kit.tick()
        case .moving, .finishRetry, .departed:
            kit.doneBlocked = state == .finishRetry
            kit.submit("busy.call", text)
            kit.tick()
            kit.report("busy.call", .answered(channel: "x"), .hungUp)
            if state != .moving { kit.completeMoves() }
        case .skipped:
            kit.put("busy.call", "", kind: .other("FIFO"))
            kit.feed(.change(.appeared("busy.call")))
        case .starting, .ending, .finishing, .keeping, .cancelling:
            var dialled = EngineOutcomeTests.dialled("busy.call", text)
            guard case .dialling(let attempt)? = dialled.core.state(of: "busy.call") else { fatalError("not dialled") }
            let finish = FinishPlan(status: .completed, summary: "Completed", rule: .init(attempt.file))
            let set: SpoolStateMachine.FileState = switch state {
            case .starting: .starting(attempt)
            case .ending: .ending(attempt, .completed, ended: t0)
            case .finishing: .finishing(finish)
            case .keeping: .keeping(due: t0.adding(seconds: 60), summary: "Completed")
            default: .cancelling(reply: 99)
            }
            dialled.core.set("busy.call", set)
            return dialled
        }
        return kit
    }

    static let reasons: [Busy: String] = [
        .starting: "its attempt is being started; try again in a moment",
        .ending: "it is finishing (its last attempt ended)",
        .checking: "an attempt the last stop interrupted is being looked for on the PBX; try again in a moment",
        .finishing: "it is finishing (its last attempt ended)",
        .keeping: "it is finishing (its last attempt ended)",
        .moving: "it is finishing (its last attempt ended)",
        .finishRetry: "it is finishing (its last attempt ended)",
        .departed: "it is finished and has left outgoing/",
        .skipped: "it is not a call file (spoold never opens it)",
        .cancelling: "it is being cancelled already",
    ]

    @Test("Cancel and reschedule are refused, with the reason, in every state but waiting; nothing else is done",
          arguments: Busy.allCases)
    func refused(state: Busy) throws {
        var kit = kit(in: state)
        let before = kit.core.state(of: "busy.call")
        let outgoing = kit.outgoing["busy.call"]
        kit.actions.removeAll()
        let reason = try #require(Self.reasons[state])
        #expect(kit.cancel("busy.call") == .refused(reason))
        #expect(kit.reschedule("busy.call", to: t0.adding(seconds: 30)) == .refused(reason))
        #expect(kit.core.state(of: "busy.call") == before)
        #expect(kit.outgoing["busy.call"]?.bytes == outgoing?.bytes)
        #expect(kit.outgoing["busy.call"]?.mtime == outgoing?.mtime)
        #expect(kit.hangUps.isEmpty)
        #expect(kit.actions.allSatisfy { if case .reply = $0 { true } else { false } }, "\(kit.actions)")
    }

    @Test("Reschedule of a call in flight is refused: only a waiting file can be moved")
    func rescheduleInFlight() {
        var kit = EngineOutcomeTests.dialled("live.call", call(archive: true, channel: "Sim/answer"))
        #expect(kit.reschedule("live.call", to: t0.adding(seconds: 30))
                == .refused("attempt 1 of 3 on Sim/answer is in flight; only a waiting file can be rescheduled"))
        #expect(kit.outgoing["live.call"]?.mtime == t0.adding(seconds: 120), "spoold's own StartRetry mtime stays")
    }

    @Test("A name spoold does not know (never there, or a dot-file) is answered as unknown")
    func unknownName() {
        var kit = EngineCoreKit()
        kit.start()
        kit.put(".staging.call", call(archive: true))
        let unknown = SpoolStateMachine.ControlReply.unknown(
            "spoold knows no call file named 'none.call' in outgoing/ (finished already, never there, or a dot-file)")
        #expect(kit.cancel("none.call") == unknown)
        #expect(kit.reschedule("none.call", to: t0) == unknown)
        if case .unknown? = kit.cancel(".staging.call") {} else { Issue.record("a dot-file is not spoold's") }
        #expect(kit.outgoing[".staging.call"] != nil)
    }

    @Test("Reschedule of a waiting file sets its mtime and due time: not dialled before, dialled then",
          arguments: Waiting.allCases)
    func rescheduleWaiting(state: Waiting) throws {
        var kit = waiting(state, archive: true)
        let target = t0.adding(seconds: 300)
        let reply = kit.reschedule("wait.call", to: target)
        #expect(reply == .done("due at \(target.timeOfDay) UTC"))
        #expect(kit.outgoing["wait.call"]?.mtime == target)
        #expect(kit.core.state(of: "wait.call") == .scheduled)
        #expect(kit.core.due(of: "wait.call") == target)
        #expect(kit.core.trunks.parkedCount == 0, "no longer parked: it waits for its new time")
        kit.report("busy.call", .answered(channel: "x"), .hungUp)
        kit.advance(to: target.adding(.milliseconds(-1)))
        #expect(!kit.dialled.contains("wait.call"))
        kit.advance(to: target)
        #expect(kit.dialled.contains("wait.call"))
    }

    @Test("Reschedule to an earlier time makes the file due then")
    func rescheduleEarlier() {
        var kit = waiting(.scheduled, archive: true)
        #expect(kit.reschedule("wait.call", to: t0.adding(seconds: 5)) == .done("due at \(t0.adding(seconds: 5).timeOfDay) UTC"))
        kit.advance(to: t0.adding(seconds: 5))
        #expect(kit.dialled == ["wait.call"])
    }

    @Test("A file whose times spoold cannot set is not moved: refused with the error, still due at its old time")
    func rescheduleNotPermitted() {
        var kit = waiting(.scheduled, archive: true)
        kit.outgoing["wait.call"]!.timesSettable = false
        let reply = kit.reschedule("wait.call", to: t0.adding(seconds: 300))
        guard case .refused(let reason)? = reply else { Issue.record("\(String(describing: reply))"); return }
        #expect(reason.hasPrefix("cannot set its mtime: set times: Operation not permitted (errno 1)"))
        #expect(kit.core.due(of: "wait.call") == t0.adding(seconds: 60))
    }

    @Test("A waiting file removed behind spoold's back is unknown when cancelled or moved, and forgotten")
    func goneMeanwhile() {
        var kit = waiting(.scheduled, archive: true)
        kit.outgoing["wait.call"] = nil
        if case .unknown? = kit.reschedule("wait.call", to: t0) {} else { Issue.record("reschedule of a removed file") }
        #expect(kit.core.state(of: "wait.call") == nil)
        kit = waiting(.scheduled, archive: true)
        kit.outgoing["wait.call"] = nil
        if case .unknown? = kit.cancel("wait.call") {} else { Issue.record("cancel of a removed file") }
        #expect(kit.core.state(of: "wait.call") == nil)
    }

    @Test("While stopping, nothing is cancelled or moved; after the stop every request still gets an answer")
    func stopping() {
        var kit = waiting(.scheduled, archive: true)
        kit.feed(.stop)
        #expect(kit.cancel("wait.call") == .refused("spoold is stopping; nothing is cancelled now"))
        #expect(kit.reschedule("wait.call", to: t0) == .refused("spoold is stopping; nothing is rescheduled now"))
        kit.tick()
        #expect(kit.actions.contains(.stopped))
        #expect(kit.cancel("wait.call") == .refused("spoold has stopped"))
        #expect(kit.outgoing["wait.call"] != nil)
    }

    @Test("A cancelled file holding a Status line already is archived as it says, and the request told so")
    func cancelFinishedAlready() {
        var kit = EngineCoreKit()
        kit.start()
        let text = call(archive: true) + "\nStartRetry: 9 1 (5)\nStatus: Completed\n"
        kit.submit("old.call", text, mtime: t0.adding(seconds: 60))
        #expect(kit.cancel("old.call") == .refused("it is finished already (Status: Completed); archiving it"))
        kit.completeMoves()
        #expect(kit.done["old.call"] == text)
    }

    @Test("The listing: one entry per file with its state, due time, attempts and channel")
    func listing() throws {
        var kit = EngineCoreKit(trunks: [.init(pattern: "Sim/*/trunk-a", maxConcurrent: 1, maxPerSecond: 0)])
        let later = t0.adding(seconds: 600)
        kit.put("later.call", call(archive: true, channel: "Sim/answer/0/0/trunk-b"), mtime: later)
        kit.start()
        kit.tick()  // the start-up sweep reads the file due later
        kit.submit("live.call", call(archive: true), mtime: t0)
        kit.submit("parked.call", call(archive: true), mtime: t0.adding(.milliseconds(1)))
        kit.submit("fresh.call", call(archive: true), mtime: t0.adding(seconds: 900))
        kit.advance(by: .milliseconds(10))
        let entries = Dictionary(uniqueKeysWithValues: kit.core.queueEntries(now: kit.now).map { ($0.name, $0) })
        #expect(entries.count == 4)
        let live = try #require(entries["live.call"])
        #expect(live.state == .inFlight(attempt: 1))
        #expect(live.summary == .init(channel: "Sim/answer/0/5000/trunk-a", attemptsMade: 0, attemptsAllowed: 3))
        #expect(live.due == kit.now)
        let parked = try #require(entries["parked.call"])
        #expect(parked.state == .parked)
        #expect(parked.due == t0.adding(.milliseconds(1)))
        #expect(parked.summary?.attemptsAllowed == 3)
        let waiting = try #require(entries["later.call"])
        #expect(waiting.state == .scheduled)
        #expect(waiting.due == later)
        #expect(waiting.summary == .init(channel: "Sim/answer/0/0/trunk-b", attemptsMade: 0, attemptsAllowed: 3))
        // Not read yet: spoold reads a file when it comes due.
        #expect(entries["fresh.call"]?.summary == nil)
        #expect(entries["fresh.call"]?.state == .scheduled)
    }

    @Test("The listing shows a file its calling window holds, due when the window opens")
    func listingHeld() throws {
        let kit = waiting(.held, archive: true)
        let entry = try #require(kit.core.queueEntries(now: kit.now).first { $0.name == "wait.call" })
        #expect(entry.state == .held)
        #expect(entry.due == t0.adding(seconds: 100))
        #expect(entry.summary == .init(channel: "Sim/answer/0/5000/trunk-a", attemptsMade: 0, attemptsAllowed: 3))
    }

    @Test("The listing after a failed attempt shows the attempts made and the retry's due time")
    func listingAfterRetry() throws {
        var kit = EngineOutcomeTests.dialled("retry.call", call(archive: true, channel: "Sim/busy"))
        kit.now = t0.adding(seconds: 2)
        kit.report("retry.call", .failed(reason: 5, text: "Busy"))
        let entry = try #require(kit.core.queueEntries(now: kit.now).first)
        #expect(entry.state == .scheduled)
        #expect(entry.due == t0.adding(seconds: 62))
        #expect(entry.summary == .init(channel: "Sim/busy", attemptsMade: 1, attemptsAllowed: 3))
        kit.now = t0.adding(seconds: 62)
        #expect(kit.core.queueEntries(now: kit.now).first?.state == .due)
    }
}
