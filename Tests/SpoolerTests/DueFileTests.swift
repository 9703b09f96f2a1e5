import CallFile
import Testing
@testable import Spooler

/// `DueFile`: what the read of a due file means, read result and memos in → decision out.
@Suite("A due file, read")
struct DueFileTests {
    typealias Action = SpoolStateMachine.Action
    static let now = SpoolInstant(seconds: 1_795_364_000)
    static let id = FileID(device: 1, inode: 7)
    static let call = "Channel: Sim/x\nApplication: Wait\nMaxRetries: 1\nRetryTime: 30\n"

    static func info(_ mtime: SpoolInstant = now.adding(seconds: -5)) -> EntryInfo {
        EntryInfo(kind: .regular, mtime: mtime, size: 80, uid: 0, mode: 0o644, fileID: id)
    }

    static func parsed(_ text: String) -> CallFile { CallFileParser.parse(Array(text.utf8), path: "/o/d.call").file }

    static func decide(_ text: String, mtime: SpoolInstant = now.adding(seconds: -5), memos: FileMemos = FileMemos()) -> DueFile.Decision {
        decide(.read(Array(text.utf8), info(mtime)), memos: memos)
    }

    static func decide(_ result: SpoolStateMachine.ReadResult, memos: FileMemos = FileMemos()) -> DueFile.Decision {
        DueFile.decide("d.call", result, memos: memos, path: "/o/d.call", maxFileSize: 4096, ownership: "spoold runs as uid 1000",
                       now: now)
    }

    @Test("Not a file to read: gone, a symlink, not regular; too large or unreadable: moved aside as Failed")
    func notRead() {
        #expect(Self.decide(.gone) == .gone)
        #expect(Self.decide(.symlink) == .symlink)
        #expect(Self.decide(.notRegular) == .notRegular)
        #expect(Self.decide(.tooLarge(5000)) == .finish(
            [.log(.error, "[d.call] refused: 5000 bytes is too large for a call file (limit 4096 bytes)")], .aside("too large"), info: nil))
        let failure = SpoolStateMachine.StepFailure(code: 13, text: "Permission denied", infoAfter: Self.info())
        #expect(Self.decide(.unreadable(failure)) == .finish(
            [.log(.error, "[d.call] cannot read the call file: Permission denied, owner uid 0, mode 0644; spoold runs as uid 1000. Moving it aside instead of deleting it")],
            .aside("unreadable"), info: nil))
    }

    @Test("An mtime ahead is a touch (due then), unless it is spoold's own (held, or stuck) or the file is finished")
    func touched() {
        let later = Self.now.adding(seconds: 300)
        #expect(Self.decide(Self.call, mtime: later) == .later(later))
        #expect(Self.decide(Self.call, mtime: later, memos: FileMemos(heldUntil: later))
            == .runnable(Self.parsed(Self.call), made: 0, info: Self.info(later), .dial(due: later)))
        // An mtime spoold cannot set: its window is judged by now, not by that mtime.
        #expect(Self.decide(Self.call, mtime: later, memos: FileMemos(stuckMtime: later))
            == .runnable(Self.parsed(Self.call), made: 0, info: Self.info(later), .dial(due: Self.now)))
        #expect(Self.decide(Self.call + "StartRetry: 99 1 (1795363900)\nStatus: Completed\n", mtime: later) == .finishedAlready(.completed, Self.id))
    }

    @Test("Hostile bytes are refused and moved aside; an invalid file fails, or stays when AlwaysDelete: no and its mtime lies ahead")
    func refusedAndInvalid() {
        guard case .finish(let lines, let plan, nil) = Self.decide("Channel: Sim/x\nApplication: Wait\nData: a\u{0}b\n") else {
            Issue.record("a control character is refused")
            return
        }
        #expect(plan.status == .failed && plan.rule == .moveAside && plan.summary.hasPrefix("Failed (") && lines.count == 1)
        let invalid = "Channel: Sim/x\n"
        guard case .finish(let failed, let failedPlan, Self.info()?) = Self.decide(invalid),
              case .log(.error, let text) = failed.first else {
            Issue.record("an invalid file is failed")
            return
        }
        #expect(text.hasPrefix("[d.call] invalid call file: ") && text.hasSuffix("; not dialled") && failed.count == 1)
        #expect(failedPlan.status == .failed && failedPlan.summary.hasPrefix("Failed (invalid: "))
        let ahead = Self.now.adding(seconds: 60)
        // (An mtime ahead that is not spoold's own is a touch first.)
        guard case .leave(let left, ahead) = Self.decide(invalid + "AlwaysDelete: no\n", mtime: ahead, memos: FileMemos(stuckMtime: ahead)) else {
            Issue.record("an invalid AlwaysDelete: no file with its mtime ahead stays")
            return
        }
        #expect(left.count == 3 && left[1] == .log(.notice, "[d.call] finished: Failed (invalid); left in place (AlwaysDelete: no, mtime in the future)"))
    }

    @Test("A call file: an interrupted attempt is recovered unless known over; no attempt left: Expired; else dialled at its mtime")
    func runnable() {
        let interrupted = Self.call + "StartRetry: 99 1 (1795363900)\n"
        let start = RetryRecord(kind: .start, pid: 99, number: 1, epoch: 1_795_363_900, line: nil)
        guard case .runnable(_, 0, _, .recover(let found)) = Self.decide(interrupted) else {
            Issue.record("a StartRetry without end is recovered")
            return
        }
        #expect(found.number == start.number && found.epoch == start.epoch)
        // Counted in memory already (its AbortRetry could not be written): not recovered again.
        #expect(Self.decide(interrupted, memos: FileMemos(rememberedAttempts: 1))
            == .runnable(Self.parsed(interrupted), made: 1, info: Self.info(), .dial(due: Self.info().mtime)))
        let spent = Self.call + "StartRetry: 99 1 (1795363900)\nEndRetry: 99 1 (1795363910)\nStartRetry: 99 2 (1795363950)\nEndRetry: 99 2 (1795363960)\n"
        #expect(Self.decide(spent) == .runnable(Self.parsed(spent), made: 2, info: Self.info(), .expire(
            [.log(.notice, "[d.call] expired: 2 of 2 attempts already made (MaxRetries 1); not dialled")],
            FinishPlan(.expired, "Expired after 2 attempts", Self.parsed(spent)))))
        #expect(Self.decide(Self.call) == .runnable(Self.parsed(Self.call), made: 0, info: Self.info(), .dial(due: Self.info().mtime)))
    }

    @Test("Its window and max_lateness: dialled now, held until the window opens (its mtime set to then), or Expired without a dial")
    func timing() throws {
        let file = Self.parsed(Self.call)
        let monday = utc(2026, 3, 2, 6)
        #expect(DueFile.timing("d.call", file, channel: "Sim/x", due: monday, rules: CallingRules(), now: monday) == .dialNow)
        let window = CallingWindow(pattern: ChannelPattern("Sim/*"), days: .all, hours: [hours("09:00-17:00")], zone: try systemZone("UTC"))
        let rules = CallingRules(windows: [window])
        let opens = utc(2026, 3, 2, 9)
        #expect(DueFile.timing("d.call", file, channel: "Sim/x", due: monday, rules: rules, now: monday) == .hold(until: opens, [
            .setMtime("d.call", opens),
            .log(.notice, "[d.call] due, but held by [window:Sim/*] until Mon 09:00 UTC (09:00:00 UTC); not dialled before then")]))
        // Another channel: no window applies.
        #expect(DueFile.timing("d.call", file, channel: "PJSIP/1", due: monday, rules: rules, now: monday) == .dialNow)
        let late = CallingRules(maxLateness: 3600)
        guard case .expire(let lines, let plan) = DueFile.timing("d.call", file, channel: "Sim/x", due: monday.adding(seconds: -7200),
                                                                 rules: late, now: monday) else {
            Issue.record("two hours late with max_lateness 3600 s is too late")
            return
        }
        #expect(lines == [.log(.notice, "[d.call] expired: 7200 s late, over max_lateness 3600 s ([general]); not dialled")])
        #expect(plan == FinishPlan(.expired, "Expired without a dial: 7200 s late, over max_lateness 3600 s ([general])", file))
    }
}
