#if canImport(Glibc)
import Glibc
#endif
import CallFile
import Synchronization

/// Moves finished files from `outgoing/` into `outgoing_done/` with their `Status:` line.
///
/// The order makes every crash point safe:
/// 1. rename `outgoing/<name>` → `outgoing_done/.<name>.<Status>.spoold-archiving` (a dotted staging name
///    nobody treats as an archive). From here on the file is out of `outgoing/`, so it is never dialled again.
/// 2. append the Status line to the staging file.
/// 3. rename it to `outgoing_done/<name>` with RENAME_NOREPLACE; an older archive of that name is first
///    renamed to `<name>.1`, `<name>.2`, … (also without replacing anything).
/// A reader therefore never sees `outgoing_done/<name>` without its Status line, no rename ever replaces a
/// file, and a failed step leaves the file where it was. `recoverStaged` finishes steps 2–3 at start-up.
///
/// Step 1 runs on the engine's actor, steps 2–3 on the finisher's queue (for other names meanwhile), so the
/// two directories are kept under a lock; the file steps are not.
final class Archiver: Sendable {
    static let stagingSuffix = ".spoold-archiving"

    private struct Directories {
        var outgoing: SpoolDirectory
        var done: SpoolDirectory?
    }
    private let directories: Mutex<Directories>
    let donePath: String

    init(outgoing: SpoolDirectory, donePath: String) {
        self.donePath = donePath
        // Only an existing archive is opened now; Asterisk creates it on the first archive.
        directories = Mutex(Directories(outgoing: outgoing, done: try? SpoolDirectory(path: donePath, create: false)))
    }

    /// The open `outgoing/`; replaced when the directory was deleted and made again.
    var outgoing: SpoolDirectory {
        get { directories.withLock { $0.outgoing } }
        set { directories.withLock { $0.outgoing = newValue } }
    }

    private func doneDirectory() throws(SystemError) -> SpoolDirectory {
        if let done = directories.withLock({ $0.done }) { return done }
        let opened = try SpoolDirectory(path: donePath, create: true)
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

    /// Step 1 for `outgoing/<name>` with `status`: from here on the file is out of `outgoing/` and never
    /// dialled again, and a crash leaves it to `recoverStaged`. Returns the staging name.
    func stage(_ name: String, status: CallStatus) throws(SystemError) -> String {
        let done = try doneDirectory()
        let staging = Self.stagingName(name, status)
        try outgoing.rename(name, to: done, as: staging, noReplace: true)
        return staging
    }

    /// Steps 2 and 3 for a file `stage` moved; returns the name it got in `outgoing_done/`.
    func complete(_ staging: String, as name: String, status: CallStatus) throws(SystemError) -> String {
        let done = try doneDirectory()
        guard appendStatus(status, to: staging, in: done) else {
            // Step 1 done but the Status line cannot be written (a file spoold may not write): keep it
            // as `<name>.failed`, apart from real archives, rather than as an archive without Status.
            return try place(staging, as: "\(name).failed", in: done)
        }
        return try place(staging, as: name, in: done)
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
        let archived = try place(staging, as: name, in: done)
        try outgoing.unlink(name)
        return archived
    }

    func delete(_ name: String) throws(SystemError) {
        try outgoing.unlink(name)
    }

    private func appendStatus(_ status: CallStatus, to staging: String, in done: SpoolDirectory) -> Bool {
        let fd = done.openForAppend(staging)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let line = status.line(afterFileEndingWith: done.lastByte(fd: fd))
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        return written == line.count
    }

    /// Renames `staging` to `name`, first moving an existing `name` to the first free `name.N`.
    private func place(_ staging: String, as name: String, in done: SpoolDirectory) throws(SystemError) -> String {
        while true {
            do {
                try done.rename(staging, to: done, as: name, noReplace: true)
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
            if directories.done == nil { directories.done = try? SpoolDirectory(path: donePath, create: false) }
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
                    results.append((staging, try place(staging, as: name + ".symlink", in: done), nil))
                    continue
                }
                guard let status = CallStatus(rawValue: tag) else { continue }
                let line = Array("Status: \(status.rawValue)\n".utf8)
                let ending = done.tail(staging, count: line.count)
                if ending != line, !appendStatus(status, to: staging, in: done) {
                    results.append((staging, try place(staging, as: "\(name).failed", in: done), nil))
                    continue
                }
                results.append((staging, try place(staging, as: name, in: done), nil))
            } catch {
                results.append((staging, name, error))
            }
        }
        return results
    }
}
