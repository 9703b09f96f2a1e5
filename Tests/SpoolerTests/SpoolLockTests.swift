#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
@testable import Spooler

@Suite("Spool lock and standby")
struct SpoolLockTests {
    static func temporarySpool() throws -> String {
        var template = Array("/tmp/spoollock-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError("mkdtemp") }
        return String(cString: made)
    }

    @Test("The lock file's contents: pid and host, an old pid-only file, an empty one, garbage")
    func holderFromFile() {
        #expect(SpoolLock.Holder(fileContents: Array("1234\npbx-a.example\n".utf8)) == .init(pid: 1234, host: "pbx-a.example"))
        #expect(SpoolLock.Holder(fileContents: Array("1234\n".utf8)) == .init(pid: 1234, host: nil))
        #expect(SpoolLock.Holder(fileContents: []) == .init(pid: nil, host: nil))
        #expect(SpoolLock.Holder(fileContents: Array("12x\nho st\u{1}\n".utf8)) == .init(pid: 12, host: "ho"))
        #expect(SpoolLock.Holder(fileContents: Array("99999999999999999999\n".utf8)).pid == nil, "no overflow")
        #expect(SpoolLock.Holder(fileContents: Array("1\n\(String(repeating: "h", count: 400))\n".utf8)).host?.count == 255)
        let holder = SpoolLock.Holder(pid: 42, host: "pbx-b")
        #expect(SpoolLock.Holder(fileContents: holder.fileContents) == holder)
        #expect("\(holder)" == "pid 42 on pbx-b")
        #expect("\(SpoolLock.Holder(pid: nil, host: nil))" == "pid unknown on unknown host")
    }

    @Test("A second lock on a held spool fails, naming the holder's pid and host")
    func heldNamesTheHolder() throws {
        let spool = try Self.temporarySpool()
        let first = try SpoolLock(spoolDirectory: spool, pid: 4242, host: "pbx-a")
        #expect(throws: SpoolLock.Failure.self) { try SpoolLock(spoolDirectory: spool, pid: 5353, host: "pbx-b") }
        do {
            _ = try SpoolLock(spoolDirectory: spool, pid: 5353, host: "pbx-b")
        } catch .held(let path, let holder) {
            #expect(path == spool + "/.spoold.lock")
            #expect(holder == .init(pid: 4242, host: "pbx-a"))
        } catch {
            Issue.record("unexpected \(error)")
        }
        withExtendedLifetime(first) {}
    }

    @Test("A standby waits while the lock is held, says who holds it once, and gets it when it is released")
    func standbyTakesTheReleasedLock() async throws {
        let spool = try Self.temporarySpool()
        var first: SpoolLock? = try SpoolLock(spoolDirectory: spool, pid: 4242, host: "pbx-a")
        let heard = Mutex<[SpoolLock.StandbyEvent]>([])
        let (waiting, waitingInput) = AsyncStream.makeStream(of: Void.self)
        let standby = Task {
            try await SpoolLock.waitForLock(spoolDirectory: spool, interval: .milliseconds(10)) { event in
                heard.withLock { $0.append(event) }
                waitingInput.yield()
            }
        }
        for await _ in waiting { break }
        // Several more tries while held: still one event, for the one holder.
        try await Task.sleep(for: .milliseconds(50))
        #expect(heard.withLock { $0 } == [.waiting(.init(pid: 4242, host: "pbx-a"))])
        first = nil  // released, as when the holder's process ends
        let taken = try #require(try await standby.value)
        #expect(first == nil)
        // The standby now holds it: a third one is refused, naming this process.
        do {
            _ = try SpoolLock(spoolDirectory: spool)
            Issue.record("the lock was not taken by the standby")
        } catch .held(_, let holder) {
            #expect(holder.pid == Int(getpid()))
            #expect(holder.host == SpoolLock.hostName())
        } catch {
            Issue.record("unexpected \(error)")
        }
        withExtendedLifetime(taken) {}
    }

    @Test("A standby cancelled while it waits returns nil and leaves the holder's lock alone")
    func cancelledStandby() async throws {
        let spool = try Self.temporarySpool()
        let first = try SpoolLock(spoolDirectory: spool, pid: 4242, host: "pbx-a")
        let (waiting, waitingInput) = AsyncStream.makeStream(of: Void.self)
        let standby = Task {
            try await SpoolLock.waitForLock(spoolDirectory: spool, interval: .milliseconds(10)) { _ in waitingInput.yield() }
        }
        for await _ in waiting { break }
        standby.cancel()
        #expect(try await standby.value == nil)
        #expect(throws: SpoolLock.Failure.self) { try SpoolLock(spoolDirectory: spool) }
        withExtendedLifetime(first) {}
    }
}
