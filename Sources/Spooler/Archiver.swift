#if canImport(Glibc)
import Glibc
#endif
import CallFile
import Synchronization

/// Moves finished files from `outgoing/` into `outgoing_done/` with their `Status:` line.
///
/// The order makes every crash point safe:
/// 1. append the Status line to `outgoing/<name>` (`markFinished`, on the engine's actor, right where the
///    attempt ends; through the StartRetry's descriptor when the engine kept it and its lstat just found
///    that file at the name). From here on the file is finished: a Status line after its last retry record is what
///    the next start reads as "archive me, do not dial" (`CallFile.finishedStatus`).
/// 2. rename it to `outgoing_done/<name>` with RENAME_NOREPLACE (`moveMarked`, on the finisher's queue),
///    if the name still holds the file that was marked. If `outgoing_done/<name>` exists, the older
///    archive is first renamed to `<name>.1`, `<name>.2`, … (also without replacing anything).
/// A reader therefore never sees `outgoing_done/<name>` without its Status line, no rename ever replaces a
/// file, and a failed step leaves the file where it was. One rename per file, as in Asterisk.
/// With the `fsync` setting on, step 1's line is synced to disk before step 2, and step 2 syncs
/// `outgoing_done/` and then `outgoing/` (see `DiskSync`).
/// If the Status line cannot be written (a file spoold may not write, a full disk), the file is moved at
/// once as `<name>.failed`, apart from real archives (`moveUnmarked`).
///
/// Archives staged by earlier versions (`outgoing_done/.<name>.<Status>.spoold-archiving`) and symlink
/// records are finished by `recoverStaged` at start-up.
final class Archiver: Sendable {
    static let stagingSuffix = ".spoold-archiving"

    private struct Directories {
        var outgoing: SpoolDirectory
        var done: SpoolDirectory?
    }
    private let directories: Mutex<Directories>
    let donePath: String

    /// The `fsync` setting, taken from `outgoing` for `outgoing_done` too.
    let sync: DiskSync

    init(outgoing: SpoolDirectory, donePath: String) {
        self.donePath = donePath
        sync = outgoing.sync
        // Only an existing archive is opened now; Asterisk creates it on the first archive.
        directories = Mutex(Directories(outgoing: outgoing, done: try? SpoolDirectory(path: donePath, create: false, sync: sync)))
    }

    /// The open `outgoing/`; replaced when the directory was deleted and made again.
    var outgoing: SpoolDirectory {
        get { directories.withLock { $0.outgoing } }
        set { directories.withLock { $0.outgoing = newValue } }
    }

    private func doneDirectory() throws(SystemError) -> SpoolDirectory {
        if let done = directories.withLock({ $0.done }) { return done }
        let opened = try SpoolDirectory(path: donePath, create: true, sync: sync)
        directories.withLock { $0.done = $0.done ?? opened }
        return opened
    }

    /// After a failed step: `outgoing_done` may have been removed or replaced, so open it afresh next time.
    func reopenDoneDirectoryNextTime() {
        directories.withLock { $0.done = nil }
    }

    static func stagingName(_ name: String, _ status: CallStatus) -> String {
        ".\(name).\(status.rawValue)\(stagingSuffix)"
    }

    /// Step 1: appends the Status line to `outgoing/<name>`. Returns the file marked, or nil when the line
    /// could not be written (then nothing was: a short write is taken back out).
    func markFinished(_ name: String, status: CallStatus) -> FileID? {
        appendStatus(status, to: name, in: outgoing)
    }

    /// Step 1 through a descriptor already open for appending to the file at `name`, `size` bytes long (the
    /// engine's lstat of the name just found that file there): no open, fstat or close here.
    func markFinished(_ name: String, through file: SpoolDirectory.OpenCallFile, size: Int64, status: CallStatus) -> FileID? {
        appendStatus(status, fd: file.fd, size: off_t(size), file: file.info.fileID, name: name, in: outgoing)
    }

    /// Step 2 for a file `markFinished` marked: returns its name in `outgoing_done/`, or nil when
    /// `outgoing/<name>` is no longer that file (removed, or replaced by a new call that must stay).
    func moveMarked(_ name: String, file: FileID) throws(SystemError) -> String? {
        let done = try doneDirectory()
        let outgoing = self.outgoing
        guard let info = outgoing.info(name), info.fileID == file else { return nil }
        return try place(name, from: outgoing, as: name, in: done)
    }

    /// A finished file whose Status line cannot be written: moved at once as `<name>.failed`, so that
    /// nothing named like an archive lacks its Status, and it is never dialled again.
    func moveUnmarked(_ name: String) throws(SystemError) -> String {
        try place(name, from: outgoing, as: "\(name).failed", in: try doneDirectory())
    }

    /// A symlink is never followed, so nothing can be appended to it. Its archive is a new regular file
    /// saying what the link pointed to, with `Status: Failed`; the link itself is then removed.
    func archiveSymlink(_ name: String) throws(SystemError) -> String {
        let done = try doneDirectory()
        let outgoing = self.outgoing
        let target = outgoing.linkTarget(name) ?? "?"
        let note = "; spoold: outgoing/\(name) was a symlink to \(target); it was not followed and the link was removed\n"
        let staging = Self.stagingName(name, .failed)
        try? done.unlink(staging)
        try done.writeNewFile(staging, bytes: Array(note.utf8) + CallStatus.failed.line(afterFileEndingWith: nil),
                              mode: 0o644, mtime: nil)
        let archived = try place(staging, from: done, as: name, in: done)
        try outgoing.unlink(name)
        return archived
    }

    func delete(_ name: String) throws(SystemError) {
        try outgoing.unlink(name)
    }

    /// The Status line, on a line of its own, at the end of the regular file `name` in `directory`: for step
    /// 1, and for archives an earlier layout staged. Returns the file written, or nil when the line could not
    /// be written (then nothing was: a short write, or one that could not be synced with `fsync` on, is
    /// taken back out).
    private func appendStatus(_ status: CallStatus, to name: String, in directory: SpoolDirectory) -> FileID? {
        let fd = directory.openForAppend(name)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        return appendStatus(status, fd: fd, size: st.st_size, file: FileID(st), name: name, in: directory)
    }

    /// The Status line through `fd`, open for appending to the regular file `file`, `size` bytes long.
    private func appendStatus(_ status: CallStatus, fd: Int32, size: off_t, file: FileID, name: String,
                              in directory: SpoolDirectory) -> FileID? {
        var last: UInt8 = 0
        let hasLast = size > 0 && pread(fd, &last, 1, size - 1) == 1
        let line = status.line(afterFileEndingWith: hasLast ? last : nil)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count else {
            if written > 0 { _ = ftruncate(fd, size) }
            return nil
        }
        do {
            try directory.sync.sync(fd, .file(name, in: directory.path))
        } catch {
            _ = ftruncate(fd, size)
            return nil
        }
        return file
    }

    /// Renames `source` in `directory` to `name` in `done`, first moving an existing `name` to the first
    /// free `name.N`.
    private func place(_ source: String, from directory: SpoolDirectory, as name: String,
                       in done: SpoolDirectory) throws(SystemError) -> String {
        while true {
            do {
                try directory.rename(source, to: done, as: name, noReplace: true)
                return name
            } catch where error.code == EEXIST {
                try keepOldArchive(name, in: done)
            }
        }
    }

    private func keepOldArchive(_ name: String, in done: SpoolDirectory) throws(SystemError) {
        var n = 1
        while true {
            do {
                try done.rename(name, to: done, as: "\(name).\(n)", noReplace: true)
                return
            } catch where error.code == EEXIST {
                n += 1
            } catch where error.code == ENOENT {
                return  // someone removed it meanwhile: the name is free
            }
        }
    }

    /// Finishes archives a crash interrupted: staging files get their Status line (unless they already
    /// end with it) and their final name. Returns (staging name, final name) pairs for the log.
    func recoverStaged() -> [(staging: String, final: String, error: SystemError?)] {
        let done = directories.withLock { directories in
            if directories.done == nil { directories.done = try? SpoolDirectory(path: donePath, create: false, sync: sync) }
            return directories.done
        }
        guard let done, let names = try? done.names() else { return [] }
        var results: [(String, String, SystemError?)] = []
        for staging in names where staging.hasPrefix(".") && staging.hasSuffix(Self.stagingSuffix) {
            let inner = String(staging.dropFirst().dropLast(Self.stagingSuffix.count))
            guard let dot = inner.lastIndex(of: ".") else { continue }
            let name = String(inner[..<dot])
            let tag = String(inner[inner.index(after: dot)...])
            do {
                if tag == "symlink" {
                    results.append((staging, try place(staging, from: done, as: name + ".symlink", in: done), nil))
                    continue
                }
                guard let status = CallStatus(rawValue: tag) else { continue }
                let line = Array("Status: \(status.rawValue)\n".utf8)
                let ending = done.tail(staging, count: line.count)
                if ending != line, appendStatus(status, to: staging, in: done) == nil {
                    results.append((staging, try place(staging, from: done, as: "\(name).failed", in: done), nil))
                    continue
                }
                results.append((staging, try place(staging, from: done, as: name, in: done), nil))
            } catch {
                results.append((staging, name, error))
            }
        }
        return results
    }
}
