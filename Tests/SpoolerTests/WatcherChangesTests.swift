import CallFile
import Testing
@testable import Spooler

/// `WatcherChanges.effect`: a change about one name and that name's state in → what the core does out.
@Suite("A watcher change, by the file's state")
struct WatcherChangesTests {
    typealias Effect = WatcherChanges.Effect
    typealias FileState = SpoolStateMachine.FileState
    static let now = SpoolInstant(seconds: 1_795_364_000)
    static let plan = FinishPlan.aside("x")
    static let attempt = CallAttempt(file: CallFile(), number: 1, channelId: "c", lengthBefore: 0, mtimeBefore: now, ownMtime: now,
                                     fileID: nil, started: now, token: 1)

    static let waiting: [FileState?] = [nil, .scheduled, .parked, .held(until: now), .due, .skipped]
    static let busy: [FileState] = [.starting(attempt), .dialling(attempt), .ending(attempt, .completed, ended: now),
                                    .finishing(plan), .keeping(due: now, summary: "s"), .finishRetry(plan, marked: true),
                                    .cancelling(reply: 1)]

    @Test("Appeared or changed: a fresh look (the core skips a busy file's), except spoold's own change to a departed file")
    func looks() {
        for state in Self.waiting + Self.busy.map(Optional.some) {
            #expect(WatcherChanges.effect(of: .appeared("f"), in: state) == .look)
            #expect(WatcherChanges.effect(of: .changed("f"), in: state) == .look)
        }
        #expect(WatcherChanges.effect(of: .appeared("f"), in: .departed) == .lookAfresh)
        #expect(WatcherChanges.effect(of: .changed("f"), in: .departed) == .none)
    }

    @Test("A file being moved notes a new file at its name and its removal; neither is looked at")
    func moving() {
        let moving = FileState.moving(Self.plan, reappeared: false, removed: false)
        #expect(WatcherChanges.effect(of: .appeared("f"), in: moving) == .moving(Self.plan, reappeared: true, removed: false))
        #expect(WatcherChanges.effect(of: .removed("f"), in: moving) == .moving(Self.plan, reappeared: false, removed: true))
        let both = FileState.moving(Self.plan, reappeared: true, removed: true)
        #expect(WatcherChanges.effect(of: .appeared("f"), in: both) == .moving(Self.plan, reappeared: true, removed: true))
        #expect(WatcherChanges.effect(of: .changed("f"), in: moving) == .look)
    }

    @Test("Removed: a waiting file is forgotten, a departed entry ends; a busy file's step finds out itself", arguments: [
        (FileState?.some(.scheduled), Effect.forget), (.held(until: now), .forget), (.departed, .drop),
        (nil, .none), (.due, .none), (.parked, .none), (.skipped, .none), (.dialling(attempt), .none),
        (.finishing(plan), .none), (.finishRetry(plan, marked: false), .none), (.cancelling(reply: 2), .none),
    ])
    func removed(state: FileState?, effect: Effect) {
        #expect(WatcherChanges.effect(of: .removed("f"), in: state) == effect)
    }
}
