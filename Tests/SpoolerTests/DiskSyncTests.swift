#if canImport(Glibc)
import Glibc
#endif
import CallFile
import Synchronization
import Testing
@testable import Spooler

/// The `fsync` setting at the file-system layer, on a real temporary spool: which syncs each step makes
/// when it is on, none when it is off, and what a failed sync does. The syncs are counted through
/// `DiskSync`'s hook, which also calls the real fsync(2).
@Suite("fsync setting")
struct DiskSyncTests {
    /// Every sync asked for, in order; `failFiles` makes file syncs fail with EIO.
    final class SyncRecorder: Sendable {
        let calls = Mutex<[DiskSync.Target]>([])
        let unsynced = Mutex<[SystemError]>([])
        let failFiles: Bool
        let failDirectories: Bool

        init(failFiles: Bool = false, failDirectories: Bool = false) {
            self.failFiles = failFiles
            self.failDirectories = failDirectories
        }

        func sync(enabled: Bool) -> DiskSync {
            DiskSync(enabled: enabled, perform: { fd, target in
                self.calls.withLock { $0.append(target) }
                switch target {
                case .file where self.failFiles, .directory where self.failDirectories:
                    errno = EIO
                    return -1
                default:
                    return fsync(fd)
                }
            }, unsyncedRename: { error in self.unsynced.withLock { $0.append(error) } })
        }

        var recorded: [DiskSync.Target] { calls.withLock { $0 } }
    }

    /// A temporary spool root with `outgoing/` holding `a.call`.
    final class Spool {
        let root: String
        var outgoingPath: String { root + "/outgoing" }
        var donePath: String { root + "/outgoing_done" }

        init() throws {
            var template = Array("/tmp/spooler-fsync-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw SystemError("mkdtemp") }
            root = String(cString: made)
            mkdir(outgoingPath, 0o755)
            let fd = open(outgoingPath + "/a.call", O_WRONLY | O_CREAT | O_EXCL, 0o644)
            let text = Array("Channel: Sim/answer\nApplication: Playback\nData: x\n".utf8)
            _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }

        deinit {
            for directory in [outgoingPath, donePath] {
                if let names = try? SpoolDirectory(path: directory, create: false).names() {
                    for name in names { unlink(directory + "/" + name) }
                }
                rmdir(directory)
            }
            rmdir(root)
        }

        func contents(_ path: String) -> String? {
            let fd = open(path, O_RDONLY)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var bytes = [UInt8](repeating: 0, count: 65536)
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            return n < 0 ? nil : String(decoding: bytes[..<n], as: UTF8.self)
        }
    }

    static let t1 = SpoolInstant(seconds: 1_795_364_000)

    /// Every kind of step the engine takes on a file, one after the other: StartRetry through the open
    /// descriptor, EndRetry and AbortRetry by name, a StartRetry taken back, the AlwaysDelete: no rewrite
    /// (temporary file, then its rename), the Status line and the archive rename.
    func everyStep(_ spool: Spool, sync: DiskSync) throws {
        let outgoing = try SpoolDirectory(path: spool.outgoingPath, create: false, sync: sync)
        let archiver = Archiver(outgoing: outgoing, donePath: spool.donePath)
        let opened = try outgoing.openCallFile("a.call", limit: 1 << 20, forAppend: true).get()
        let start = RetryRecord(kind: .start, pid: 7, number: 1, epoch: 100, line: nil)
        let appended = try outgoing.append(start.bytes, to: opened, atime: Self.t1, mtime: Self.t1)
        opened.close()
        try outgoing.append(RetryRecord(kind: .end, pid: 7, number: 1, epoch: 101, line: nil).bytes, to: "a.call", atime: nil, mtime: Self.t1)
        try outgoing.append(RetryRecord(kind: .abort, pid: 7, number: 2, epoch: 102, line: nil).bytes, to: "a.call", atime: nil, mtime: Self.t1)
        try outgoing.truncate("a.call", to: appended.lengthBefore, mtime: Self.t1)
        try outgoing.writeNewFile(".a.call.spoold-rewrite", bytes: Array("Channel: Sim/answer\n".utf8), mode: 0o644, mtime: Self.t1)
        try outgoing.rename(".a.call.spoold-rewrite", to: outgoing, as: "a.call", noReplace: false)
        let marked = try #require(archiver.markFinished("a.call", status: .completed))
        #expect(try archiver.moveMarked("a.call", file: marked) == "a.call")
    }

    @Test("on: each record synced to the file, each rename to its directories (outgoing_done before outgoing)")
    func syncsEachRecordAndRename() throws {
        let spool = try Spool()
        let recorder = SyncRecorder()
        try everyStep(spool, sync: recorder.sync(enabled: true))
        let outgoing = spool.outgoingPath, done = spool.donePath
        #expect(recorder.recorded == [
            .file("a.call", in: outgoing),                 // StartRetry
            .file("a.call", in: outgoing),                 // EndRetry
            .file("a.call", in: outgoing),                 // AbortRetry
            .file("a.call", in: outgoing),                 // StartRetry taken back out
            .file(".a.call.spoold-rewrite", in: outgoing), // the rewrite, before its rename
            .directory(outgoing),                          // its rename, inside outgoing/: one sync
            .file("a.call", in: outgoing),                 // the Status line
            .directory(done), .directory(outgoing),        // the archive rename
        ])
        #expect(spool.contents(done + "/a.call") == "Channel: Sim/answer\nStatus: Completed\n")
    }

    @Test("off (the default): the same steps sync nothing, with the same result")
    func offSyncsNothing() throws {
        let spool = try Spool()
        let recorder = SyncRecorder()
        try everyStep(spool, sync: recorder.sync(enabled: false))
        #expect(recorder.recorded.isEmpty)
        #expect(spool.contents(spool.donePath + "/a.call") == "Channel: Sim/answer\nStatus: Completed\n")
        #expect(!DiskSync.off.isEnabled)
        #expect(EngineConfiguration(spoolDirectory: spool.root).diskSync.isEnabled == false, "off by default")
    }

    @Test("on: a record that cannot be synced is taken back out, the mtime restored, and the step fails")
    func failedRecordSyncIsUndone() throws {
        let spool = try Spool()
        let recorder = SyncRecorder(failFiles: true)
        let outgoing = try SpoolDirectory(path: spool.outgoingPath, create: false, sync: recorder.sync(enabled: true))
        let before = try #require(outgoing.info("a.call"))
        let text = spool.contents(spool.outgoingPath + "/a.call")
        let record = RetryRecord(kind: .start, pid: 7, number: 1, epoch: 100, line: nil)
        #expect(throws: SystemError("fsync \(spool.outgoingPath)/a.call", EIO)) {
            try outgoing.append(record.bytes, to: "a.call", atime: Self.t1, mtime: Self.t1)
        }
        #expect(spool.contents(spool.outgoingPath + "/a.call") == text, "no record that may not be on disk")
        #expect(outgoing.info("a.call")?.mtime == before.mtime)

        let archiver = Archiver(outgoing: outgoing, donePath: spool.donePath)
        #expect(archiver.markFinished("a.call", status: .failed) == nil, "an unsynced Status line counts as not written")
        #expect(spool.contents(spool.outgoingPath + "/a.call") == text)

        #expect(throws: SystemError.self) {
            try outgoing.writeNewFile(".a.call.spoold-rewrite", bytes: [0x41], mode: 0o644, mtime: nil)
        }
        #expect(outgoing.info(".a.call.spoold-rewrite") == nil, "an unsynced rewrite is never renamed in")
    }

    @Test("on: a directory that cannot be synced after a rename is reported, and the rename stands")
    func failedDirectorySyncIsReported() throws {
        let spool = try Spool()
        let recorder = SyncRecorder(failDirectories: true)
        let outgoing = try SpoolDirectory(path: spool.outgoingPath, create: false, sync: recorder.sync(enabled: true))
        let archiver = Archiver(outgoing: outgoing, donePath: spool.donePath)
        let marked = try #require(archiver.markFinished("a.call", status: .completed))
        #expect(try archiver.moveMarked("a.call", file: marked) == "a.call")
        #expect(spool.contents(spool.donePath + "/a.call") != nil)
        #expect(recorder.unsynced.withLock { $0.map(\.operation) } == ["fsync \(spool.donePath)/"])
    }
}
