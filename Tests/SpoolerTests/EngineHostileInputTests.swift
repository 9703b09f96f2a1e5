#if canImport(Glibc)
import Glibc
#endif
import CallFile
import Testing
@testable import Spooler

/// Contract §2.7, §2.8 and §5: each case is logged with the file and the cause; nothing is lost, followed
/// or blocked on; no call without its StartRetry record.
@Suite("Engine: hostile and broken input")
struct EngineHostileInputTests {
    static let answered = callText(["Channel": "Sim/answer", "Application": "Wait", "Archive": "yes"])

    @Test("A symlink is never followed: recorded as Failed in outgoing_done, the target untouched")
    func symlink() async throws {
        let harness = try EngineHarness()
        try await harness.start()
        let target = harness.root + "/staging/target.call"
        try EngineHarness.write(Array(Self.answered.utf8), to: target)
        Glibc.symlink(target, harness.outgoing + "/link.call")
        harness.changed(.appeared("link.call"))
        #expect(try await harness.finished("link.call") == (.failed, .archived("link.call")))
        #expect(EngineHarness.read(target) == Self.answered)
        let record = try #require(harness.archived("link.call"))
        #expect(record.contains("symlink to \(target)") && record.hasSuffix("\nStatus: Failed\n"))
        #expect(harness.inOutgoing("link.call") == nil)
        #expect(harness.pbx.placedRequests.isEmpty)
        await harness.stop()
    }

    @Test("FIFOs and directories are skipped with one warning each and block nothing")
    func specialFiles() async throws {
        let harness = try EngineHarness()
        mkfifo(harness.outgoing + "/startup.fifo", 0o644)
        try await harness.start()
        mkdir(harness.outgoing + "/later.dir", 0o755)
        harness.changed(.appeared("later.dir"))
        harness.changed(.changed("later.dir"))
        try harness.submit("real.call", Self.answered)
        _ = try await harness.finished("real.call")
        #expect(harness.log.lines.filter { $0.contains("[startup.fifo]") && $0.contains("FIFO") }.count == 1)
        #expect(harness.log.lines.filter { $0.contains("[later.dir]") && $0.contains("directory") }.count == 1)
        #expect(harness.names(in: harness.outgoing) == ["later.dir", "startup.fifo"])
        await harness.stop()
    }

    @Test("Over 1 MiB: Failed 'too large', moved aside with its bytes; exactly 1 MiB runs", arguments: [1 << 20, (1 << 20) + 1])
    func tooLarge(size: Int) async throws {
        let harness = try EngineHarness()
        try await harness.start()
        var bytes = Array(Self.answered.utf8)
        bytes += Array(repeating: UInt8(ascii: ";"), count: size - bytes.count - 1) + [UInt8(ascii: "\n")]
        try harness.submit("big.call", bytes: bytes)
        let (status, _) = try await harness.finished("big.call")
        #expect(status == (size > 1 << 20 ? .failed : .completed))
        #expect(harness.archived("big.call")?.utf8.starts(with: bytes) == true)
        #expect(harness.log.contains("[big.call]", "too large") == (size > 1 << 20))
        await harness.stop()
    }

    @Test("A CR or NUL in a value: Failed 'control character' whatever Archive says, never dialled", arguments: [
        "Data: first\rAction: Originate\n", "Data: a\u{0}b\n",
    ])
    func controlCharacter(line: String) async throws {
        let harness = try EngineHarness()
        try await harness.start()
        let text = "Channel: Sim/answer\nApplication: Playback\n" + line
        try harness.submit("smuggle.call", text)
        #expect(try await harness.finished("smuggle.call") == (.failed, .archived("smuggle.call")))
        #expect(harness.archived("smuggle.call") == text + "Status: Failed\n")
        #expect(harness.log.contains("[smuggle.call]", "control character"))
        #expect(harness.pbx.placedRequests.isEmpty)
        await harness.stop()
    }

    @Test("A file whose StartRetry cannot be written is not dialled; the step is retried and then goes on",
          .enabled(if: EngineHostileInputTests.canMakeImmutable()))
    func writeFailureDoesNotDial() async throws {
        let harness = try EngineHarness()
        try await harness.start()
        try harness.submit("locked.call", Self.answered, announce: false)
        #expect(Self.chattr("+i", harness.outgoing + "/locked.call"))
        harness.changed(.appeared("locked.call"))
        _ = try await harness.next { $0 == .stepFailed(file: "locked.call", step: "write the StartRetry record") }
        #expect(harness.pbx.placedRequests.isEmpty)
        #expect(harness.inOutgoing("locked.call") == Self.answered)
        #expect(harness.log.contains("[locked.call]", "cannot write the StartRetry record", "no call placed"))
        #expect(Self.chattr("-i", harness.outgoing + "/locked.call"))
        await harness.advance(by: .seconds(10))
        #expect(try await harness.finished("locked.call").0 == .completed)
        #expect(harness.pbx.placedRequests.count == 1)
        await harness.stop()
    }

    @Test("A file that keeps refusing its records is moved aside with a chown hint, never dialled, never retried for ever",
          .enabled(if: EngineHostileInputTests.canMakeImmutable()))
    func refusedRecordsMovedAside() async throws {
        let harness = try EngineHarness()
        try await harness.start()
        try harness.submit("foreign.call", Self.answered, announce: false)
        let path = harness.outgoing + "/foreign.call"
        #expect(Self.chattr("+i", path))
        harness.changed(.appeared("foreign.call"))
        for _ in 0..<2 {
            _ = try await harness.next { $0 == .stepFailed(file: "foreign.call", step: "write the StartRetry record") }
            await harness.advance(by: .seconds(10))
        }
        // The third refusal gives up on the call. An immutable file cannot be renamed either, so the move
        // aside waits too; once the flag is gone it goes through, as for a foreign file in a writable directory.
        _ = try await harness.next { $0 == .stepFailed(file: "foreign.call", step: "archive") }
        #expect(Self.chattr("-i", path))
        await harness.advance(by: .seconds(10))
        #expect(try await harness.finished("foreign.call") == (.failed, .archived("foreign.call")))
        #expect(harness.pbx.placedRequests.isEmpty)
        #expect(harness.log.contains("[foreign.call]", "chown"))
        await harness.stop()
    }

    static func chattr(_ flag: String, _ path: String) -> Bool {
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("chattr"), strdup(flag), strdup(path), nil]
        defer { argv.forEach { free($0) } }
        guard posix_spawnp(&pid, "chattr", nil, nil, argv, environ) == 0 else { return false }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return status == 0
    }

    static func canMakeImmutable() -> Bool {
        guard getuid() == 0 else { return false }
        let path = "/tmp/spooler-immutable-probe-\(getpid())"
        guard (try? EngineHarness.write([1], to: path)) != nil else { return false }
        defer { _ = chattr("-i", path); unlink(path) }
        return chattr("+i", path)
    }
}
