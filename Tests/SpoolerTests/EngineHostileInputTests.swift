import CallFile
import EngineTestSupport
import Testing
@testable import Spooler

/// Contract §2.7, §2.8 and §5 as table tests of the core: each case is logged with the file and the cause;
/// nothing is lost, followed or blocked on; no call without its StartRetry record.
@Suite("Engine: hostile and broken input")
struct EngineHostileInputTests {
    static let answered = callText(["Channel": "Sim/answer", "Application": "Wait", "Archive": "yes"])
    let t0 = EngineCoreKit.t0

    @Test("A symlink is never followed or read: due at once, recorded as Failed in outgoing_done, the link removed")
    func symlink() {
        var kit = EngineCoreKit()
        kit.start()
        kit.put("link.call", "", kind: .symlink)
        #expect(kit.feed(.change(.appeared("link.call"))) == [.stat("link.call")])
        let turn = kit.tick()
        #expect(turn.contains(.archiveSymlink("link.call")))
        #expect(kit.finished("link.call").map { $0 == (.failed, .archived("link.call")) } == true)
        #expect(kit.logged("[link.call] refused: a symlink is never followed; finished: Failed (symlink)"))
        #expect(kit.placed.isEmpty)
    }

    @Test("FIFOs and directories are skipped with one warning each and block nothing")
    func specialFiles() {
        var kit = EngineCoreKit()
        kit.put("startup.fifo", "", kind: .other("FIFO"))
        kit.start()
        kit.put("later.dir", "", kind: .other("directory"))
        kit.feed(.change(.appeared("later.dir")))
        kit.feed(.change(.changed("later.dir")))
        kit.submit("real.call", Self.answered)
        kit.tick()
        #expect(kit.dialled == ["real.call"])
        #expect(kit.logLines.filter { $0.contains("[startup.fifo]") && $0.contains("a FIFO is not a call file") }.count == 1)
        #expect(kit.logLines.filter { $0.contains("[later.dir]") && $0.contains("a directory is not a call file") }.count == 1)
        #expect(kit.emitted.contains(.skipped(file: "later.dir", kind: "directory")))
        #expect(!kit.actions.contains(.read("later.dir", forAppend: true)))
    }

    @Test("Over 1 MiB: Failed 'too large', moved aside with its bytes; exactly 1 MiB runs", arguments: [1 << 20, (1 << 20) + 1])
    func tooLarge(size: Int) {
        var kit = EngineCoreKit()
        kit.start()
        var text = Self.answered
        text += String(repeating: ";", count: size - text.utf8.count - 1) + "\n"
        kit.submit("big.call", text)
        kit.tick()
        if size > 1 << 20 {
            kit.completeMoves()
            #expect(kit.finished("big.call")?.0 == .failed)
            #expect(kit.done["big.call"]?.hasPrefix(text) == true)
            #expect(kit.logged("[big.call] refused: \(size) bytes is too large for a call file (limit 1048576 bytes)"))
        } else {
            #expect(kit.dialled == ["big.call"])
        }
    }

    @Test("A CR or NUL in a value: Failed 'control character' whatever Archive says, never dialled", arguments: [
        "Data: first\rAction: Originate\n", "Data: a\u{0}b\n",
    ])
    func controlCharacter(line: String) {
        var kit = EngineCoreKit()
        kit.start()
        let text = "Channel: Sim/answer\nApplication: Playback\n" + line
        kit.submit("smuggle.call", text)
        kit.tick()
        kit.completeMoves()
        #expect(kit.finished("smuggle.call").map { $0 == (.failed, .archived("smuggle.call")) } == true)
        #expect(kit.done["smuggle.call"] == text + "Status: Failed\n")
        #expect(kit.logged("[smuggle.call] refused: a ", "byte ", "in line 3"))
        #expect(kit.logged("[smuggle.call] finished: Failed (control character)"))
        #expect(kit.placed.isEmpty)
    }

    @Test("An unreadable file is moved aside (never deleted), the log naming owner, mode and spoold's uid")
    func unreadable() {
        var kit = EngineCoreKit()
        kit.start()
        kit.submit("secret.call", Self.answered)
        let info = kit.info("secret.call")
        let failure = SpoolStateMachine.StepFailure(code: 13, text: "open: Permission denied (errno 13)", infoAfter: info)
        _ = kit.core.handle(.tick(.init(ready: true, allowedAt: t0)), now: t0)
        let actions = kit.core.handle(.fileRead("secret.call", .unreadable(failure)), now: t0)
        #expect(actions.first == .log(.error, "[secret.call] cannot read the call file: open: Permission denied (errno 13), owner uid 0, mode 0644; spoold runs as uid 1000. Moving it aside instead of deleting it"))
        #expect(actions.last == .markFinished("secret.call", .failed))
    }

    @Test("A file whose StartRetry cannot be written is not dialled; the step is retried and then goes on")
    func writeFailureDoesNotDial() {
        var kit = EngineCoreKit()
        kit.start()
        kit.put("locked.call", Self.answered)
        kit.outgoing["locked.call"]!.writeErrno = 1
        kit.feed(.change(.appeared("locked.call")))
        kit.tick()
        #expect(kit.emitted.contains(.stepFailed(file: "locked.call", step: "write the StartRetry record")))
        #expect(kit.placed.isEmpty)
        #expect(kit.outgoing["locked.call"]?.text == Self.answered)
        #expect(kit.logged("[locked.call] cannot write the StartRetry record: ", "no call placed, trying again at"))
        kit.outgoing["locked.call"]!.writeErrno = 0
        kit.advance(by: .seconds(10))
        #expect(kit.placed.count == 1)
    }

    @Test("A file that keeps refusing its records is moved aside with a chown hint, never dialled, never retried for ever")
    func refusedRecordsMovedAside() {
        var kit = EngineCoreKit()
        kit.start()
        kit.put("foreign.call", Self.answered)
        kit.outgoing["foreign.call"]!.writeErrno = 13
        kit.feed(.change(.appeared("foreign.call")))
        kit.tick()
        kit.advance(by: .seconds(10))
        #expect(kit.emitted.filter { $0 == .stepFailed(file: "foreign.call", step: "write the StartRetry record") }.count == 2)
        // The third refusal gives up on the call; its Status line cannot be written either: moved as .failed.
        kit.advance(by: .seconds(10))
        #expect(kit.finished("foreign.call").map { $0 == (.failed, .archived("foreign.call.failed")) } == true)
        #expect(kit.done["foreign.call.failed"] == Self.answered)
        #expect(kit.placed.isEmpty)
        #expect(kit.logged("[foreign.call] cannot write retry records", "3 times in a row; never dialled. Fix: chown"))
    }

    @Test("Times that cannot be set: the call goes on, the count and the mtime are kept in memory, one warning")
    func stuckTimes() {
        var kit = EngineCoreKit()
        kit.start()
        let text = callText(["Channel": "Sim/x", "MaxRetries": "2", "RetryTime": "5", "Application": "Wait", "Archive": "yes"])
        kit.put("foreign.call", text, mtime: t0)
        kit.outgoing["foreign.call"]!.timesSettable = false
        kit.feed(.change(.appeared("foreign.call")))
        kit.tick()
        #expect(kit.placed.count == 1)
        // spoold's own append is reported as a change: the unchanged mtime is not taken for a touch.
        kit.now = t0.adding(seconds: 1)
        kit.report("foreign.call", .failed(reason: 5, text: "busy"))
        kit.feed(.change(.changed("foreign.call")))
        kit.tick()
        #expect(kit.placed.count == 1, "re-dialled at the mtime it kept")
        kit.advance(to: t0.adding(seconds: 6))
        #expect(kit.started("foreign.call") == [1, 2])
        #expect(kit.logLines.filter { $0.contains("cannot set the file's times") }.count == 1)
    }
}
