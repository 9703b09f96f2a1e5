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

    static func read(_ text: String) -> SpoolStateMachine.ReadResult {
        .read(Array(text.utf8), EntryInfo(kind: .regular, mtime: now, size: 40, uid: 0, mode: 0o644, fileID: FileID(device: 1, inode: 2)))
    }

    @Test("A cancelled waiting file's read → finished as Cancelled by its own Archive option; moved aside when unreadable or hostile")
    func cancelRead() {
        let line = SpoolStateMachine.Action.log(.notice, "[f.call] cancelled while waiting: not dialled")
        func cancelled(archive: Bool, alwaysDelete: Bool) -> FinishPlan {
            FinishPlan(status: .cancelled, summary: "Cancelled while waiting", rule: .init(archive: archive, alwaysDelete: alwaysDelete))
        }
        #expect(QueueControl.cancelRead("f.call", Self.read("Channel: Sim/x\nApplication: Wait\nArchive: yes\n"), path: "/o/f.call")
            == .cancel(line, cancelled(archive: true, alwaysDelete: true), .done("cancelled; archived with Status: Cancelled")))
        #expect(QueueControl.cancelRead("f.call", Self.read("Channel: Sim/x\nApplication: Wait\n"), path: "/o/f.call")
            == .cancel(line, cancelled(archive: false, alwaysDelete: true), .done("cancelled; deleted with Status: Cancelled")))
        #expect(QueueControl.cancelRead("f.call", Self.read("Channel: Sim/x\nApplication: Wait\nData: a\u{0}b\n"), path: "/o/f.call")
            == .cancel(line, cancelled(archive: true, alwaysDelete: true), .done("cancelled; archived with Status: Cancelled")))
        #expect(QueueControl.cancelRead("f.call", .tooLarge(1 << 21), path: "/o/f.call")
            == .cancel(line, cancelled(archive: true, alwaysDelete: true), .done("cancelled; archived with Status: Cancelled")))
        #expect(QueueControl.cancelRead("f.call", Self.read("Channel: Sim/x\nApplication: Wait\nStartRetry: 1 1 (5)\nStatus: Expired\n"),
                                        path: "/o/f.call")
            == .finishedAlready(.expired, FileID(device: 1, inode: 2), .refused("it is finished already (Status: Expired); archiving it")))
        #expect(QueueControl.cancelRead("f.call", .gone, path: "/o/f.call") == .gone(.unknown(EngineWording.unknown("f.call"))))
        #expect(QueueControl.cancelRead("f.call", .symlink, path: "/o/f.call")
            == .notRegular(.refused("it is not a regular file (a symlink is refused, anything else skipped, when it comes due)")))
    }

    @Test("A call in flight is hung up, and the answer says the file finishes when it ends")
    func hangingUp() {
        #expect(QueueControl.hangingUp("f.call", Self.attempt, reply: 4) == [
            .log(.notice, "[f.call] cancelled during attempt 1 of 1 on Sim/answer: hanging up its call (ChannelId \(Self.attempt.channelId))"),
            .hangUp("f.call", channelId: Self.attempt.channelId),
            .reply(4, .done("attempt 1 of 1 on Sim/answer is in flight: hanging up its call; the file is then finished as Cancelled"))])
    }

    @Test("A new due time set → the line and the answer; a file gone → unknown; refused → why, with the owners")
    func dueSet() {
        let due = Self.now.adding(seconds: 3600)
        let done = QueueControl.dueSet("f.call", due, reply: 5, nil, ownership: "spoold runs as uid 1000")
        #expect(!done.gone && done.1 == [.log(.notice, "[f.call] rescheduled by spoold reschedule: due at \(due.timeOfDay)"),
                                         .reply(5, .done("due at \(due.timeOfDay) UTC"))])
        let gone = QueueControl.dueSet("f.call", due, reply: 5, .init(code: 2, text: "No such file or directory", infoAfter: nil), ownership: "u")
        #expect(gone.gone && gone.1 == [.reply(5, .unknown(EngineWording.unknown("f.call")))])
        let info = EntryInfo(kind: .regular, mtime: Self.now, size: 40, uid: 0, mode: 0o644, fileID: FileID(device: 1, inode: 2))
        let refused = QueueControl.dueSet("f.call", due, reply: 5, .init(code: 1, text: "Operation not permitted", infoAfter: info),
                                          ownership: "spoold runs as uid 1000")
        #expect(!refused.gone && refused.1 == [
            .reply(5, .refused("cannot set its mtime: Operation not permitted; owner uid 0, mode 0644, spoold runs as uid 1000"))])
    }
}
