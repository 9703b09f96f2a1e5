import CallFile
import Testing
@testable import Spooler

/// `QueueControl`: what cancel and reschedule may do in each state (docs/engine.md, "Queue control").
@Suite("Queue control, state by state")
struct QueueControlTableTests {
    typealias FileState = SpoolStateMachine.FileState
    static let now = SpoolInstant(seconds: 1_795_364_000)
    static let attempt: CallAttempt = {
        let file = CallFileParser.parse(Array("Channel: Sim/answer\nApplication: Wait\n".utf8), path: "f.call").file
        let info = EntryInfo(kind: .regular, mtime: now, size: 40, uid: 0, mode: 0o644, fileID: FileID(device: 1, inode: 2))
        return CallAttempt(file, name: "f.call", made: 0, info: info, now: now, token: 1)
    }()
    static var hungUp: CallAttempt {
        var attempt = attempt
        attempt.cancelled = true
        return attempt
    }

    static let waiting: [FileState?] = [.scheduled, .parked, .due, .held(until: now)]
    static let busy: [FileState?] = [
        .starting(attempt), .checking(InterruptedAttempt(name: "f.call", file: attempt.file,
                                                         start: RetryRecord(kind: .start, pid: 1, number: 1, epoch: 5, line: nil))),
        .ending(attempt, .completed, ended: now), .finishing(.aside("x")), .keeping(due: now, summary: "s"),
        .moving(.aside("x"), reappeared: false, removed: false), .finishRetry(.aside("x"), marked: true),
        .departed, .skipped, .cancelling(reply: 3),
    ]

    @Test("A waiting file can be cancelled and rescheduled", arguments: waiting)
    func waitingFile(state: FileState?) {
        #expect(QueueControl.cancel("f.call", in: state, stopping: false) == .finishWaiting)
        #expect(QueueControl.reschedule("f.call", in: state, stopping: false) == nil)
    }

    @Test("A call in flight is hung up once, never rescheduled")
    func inFlight() {
        #expect(QueueControl.cancel("f.call", in: .dialling(Self.attempt), stopping: false) == .hangUp(Self.attempt))
        #expect(QueueControl.cancel("f.call", in: .dialling(Self.hungUp), stopping: false)
            == .refuse(.refused("its call is being hung up already")))
        #expect(QueueControl.reschedule("f.call", in: .dialling(Self.attempt), stopping: false)
            == .refused("attempt 1 of 1 on Sim/answer is in flight; only a waiting file can be rescheduled"))
    }

    @Test("Any other state is refused with why; an unknown name is unknown", arguments: busy + [nil])
    func refused(state: FileState?) {
        func answer(_ verb: String) -> SpoolStateMachine.ControlReply {
            state.map { .refused(EngineWording.whyNot($0, verb)) } ?? .unknown(EngineWording.unknown("f.call"))
        }
        #expect(QueueControl.cancel("f.call", in: state, stopping: false) == .refuse(answer("cancelled")))
        #expect(QueueControl.reschedule("f.call", in: state, stopping: false) == answer("rescheduled"))
    }

    @Test("While spoold stops, nothing is cancelled or rescheduled", arguments: waiting + [.dialling(attempt)])
    func stopping(state: FileState?) {
        #expect(QueueControl.cancel("f.call", in: state, stopping: true)
            == .refuse(.refused("spoold is stopping; nothing is cancelled now")))
        #expect(QueueControl.reschedule("f.call", in: state, stopping: true)
            == .refused("spoold is stopping; nothing is rescheduled now"))
    }

    @Test("After the stop a request still gets its answer; other events get nothing")
    func afterStop() {
        let answer = SpoolStateMachine.Action.reply(7, .refused("spoold has stopped"))
        #expect(QueueControl.afterStop(.cancel("f.call", reply: 7)) == [answer])
        #expect(QueueControl.afterStop(.reschedule("f.call", to: Self.now, reply: 7)) == [answer])
        #expect(QueueControl.afterStop(.dueSet("f.call", Self.now, reply: 7, nil)) == [answer])
        #expect(QueueControl.afterStop(.tick(.init(ready: true, allowedAt: Self.now))).isEmpty)
        #expect(QueueControl.afterStop(.stop).isEmpty)
    }
}
