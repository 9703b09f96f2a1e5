import CallFile
import EngineTestSupport
import Testing
@testable import Spooler

/// The watcher's batches lose the changes that repeat the one just before them (spoold's own futimens and
/// close come as such a pair): a table of batches in and out, and the core's actions for a batch with and
/// without its repeats.
@Suite("Engine: a watcher batch's repeated changes")
struct EngineChangeCoalescingTests {
    typealias Change = SpoolStateMachine.Change

    @Test("changed right after appeared or changed of the same name is dropped; anything else stays", arguments: [
        ([Change.appeared("a"), .changed("a")], [Change.appeared("a")]),
        ([.changed("a"), .changed("a"), .changed("a")], [.changed("a")]),
        // Another name between: the second look is kept (the table compares with the change just before only).
        ([.changed("a"), .changed("b"), .changed("a")], [.changed("a"), .changed("b"), .changed("a")]),
        // A removal and an appearance are facts of their own, never dropped or merged.
        ([.changed("a"), .removed("a"), .changed("a")], [.changed("a"), .removed("a"), .changed("a")]),
        ([.changed("a"), .appeared("a")], [.changed("a"), .appeared("a")]),
        ([.appeared("a"), .appeared("a")], [.appeared("a"), .appeared("a")]),
        ([.removed("a"), .removed("a")], [.removed("a"), .removed("a")]),
        ([.rescan(["a"], reason: .overflow), .changed("a")], [.rescan(["a"], reason: .overflow), .changed("a")]),
        ([], []),
    ])
    func table(batch: [Change], expected: [Change]) {
        #expect(WatcherChanges.coalesced(batch) == expected)
    }

    @Test("A batch with its repeats and one without leave the core in the same state, with the same log and events")
    func sameOutcome() {
        let t0 = EngineCoreKit.t0
        func run(_ coalesce: Bool) -> (actions: [SpoolStateMachine.Action], due: [SpoolInstant?], wake: SpoolInstant?) {
            var kit = EngineCoreKit()
            kit.start()
            kit.put("touched.call", callText(["Channel": "Sim/answer", "Application": "Wait"]), mtime: t0.adding(seconds: 30))
            kit.put("other.call", callText(["Channel": "Sim/answer", "Application": "Wait"]), mtime: t0.adding(seconds: 40))
            let batch: [Change] = [.changed("touched.call"), .changed("touched.call"), .appeared("other.call"), .changed("other.call"),
                                   .appeared("touched.call"), .changed("touched.call"), .changed("touched.call")]
            var actions: [SpoolStateMachine.Action] = []
            for change in coalesce ? WatcherChanges.coalesced(batch) : batch { actions += kit.feed(.change(change)) }
            actions += kit.tick()
            return (actions.filter { if case .stat = $0 { false } else { true } },
                    [kit.core.due(of: "touched.call"), kit.core.due(of: "other.call")], kit.wake)
        }
        let (plain, coalesced) = (run(false), run(true))
        #expect(plain.actions == coalesced.actions)
        #expect(plain.due == [t0.adding(seconds: 30), t0.adding(seconds: 40)] && coalesced.due == plain.due)
        #expect(coalesced.wake == t0.adding(seconds: 30) && plain.wake == coalesced.wake)
    }
}
