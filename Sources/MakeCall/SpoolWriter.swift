#if canImport(Glibc)
import Glibc
#endif

/// Puts a call file into `<spool>/outgoing` so that no reader ever sees it half-written, and so that
/// nothing is left behind when any step fails.
///
/// The file is written and synced under a dot-name in the spool root (on the same filesystem, but not in
/// `outgoing/`, where Asterisk reads every name), given its owner, mode and mtime there, and then renamed
/// into `outgoing/` without replacing an existing file.
public enum SpoolWriter {
    public struct Owner: Sendable, Equatable {
        public var user: UInt32
        /// nil keeps the group the file was created with.
        public var group: UInt32?

        public init(user: UInt32, group: UInt32?) {
            self.user = user
            self.group = group
        }
    }

    public struct Request: Sendable {
        public var contents: [UInt8]
        public var spoolDirectory: String
        public var name: String
        public var owner: Owner?
        public var mode: UInt32?
        /// The mtime, which is the due time; nil leaves it at the time of writing.
        public var dueTime: Int64?

        public init(
            contents: [UInt8], spoolDirectory: String, name: String, owner: Owner? = nil, mode: UInt32? = nil,
            dueTime: Int64? = nil
        ) {
            self.contents = contents
            self.spoolDirectory = spoolDirectory
            self.name = name
            self.owner = owner
            self.mode = mode
            self.dueTime = dueTime
        }
    }

    /// `mkcall-<UTC yyyyMMddTHHmmssZ>-<pid>-<8 hex digits>.call`.
    public static func defaultName(now: Int64, pid: Int32, random: UInt32) -> String {
        var seconds = time_t(now)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let stamp = "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
        let hex = String(random, radix: 16)
        return "mkcall-\(stamp)-\(pid)-\(String(repeating: "0", count: 8 - hex.count))\(hex).call"
    }

    /// Writes the file and returns the path it now has in `outgoing/`.
    public static func write(_ request: Request) throws(MakeCallError) -> String {
        try SpoolOptions.checkName(request.name)
        let spool = request.spoolDirectory
        let root = open(spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw failure("--spool-dir", "cannot open \(spool)") }
        defer { close(root) }
        let outgoing = openat(root, "outgoing", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
        guard outgoing >= 0 else {
            throw failure("--spool-dir", "cannot open \(spool)/outgoing (Asterisk creates it when pbx_spool loads)")
        }
        defer { close(outgoing) }
        var rootStatus = stat()
        var outgoingStatus = stat()
        guard fstat(root, &rootStatus) == 0, fstat(outgoing, &outgoingStatus) == 0 else {
            throw failure("--spool-dir", "cannot stat \(spool)")
        }
        guard rootStatus.st_dev == outgoingStatus.st_dev else {
            throw MakeCallError(
                flag: "--spool-dir",
                reason: "\(spool)/outgoing is on another filesystem than \(spool), so the file cannot be moved in atomically")
        }

        var randomBytes = SystemRandomNumberGenerator()
        let temporary = ".mkcall-\(String(randomBytes.next(), radix: 16)).tmp"
        let fd = openat(root, temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, request.mode == nil ? 0o644 : 0o600)
        guard fd >= 0 else { throw failure("--spool-dir", "cannot create a temporary file in \(spool)") }
        var open = true
        var placed = false
        do throws(MakeCallError) {
            try writeAll(fd, request.contents)
            if let owner = request.owner {
                guard fchown(fd, owner.user, owner.group ?? UInt32.max) == 0 else {
                    throw failure("--owner", "cannot give the file to \(owner.user):\(owner.group.map(String.init) ?? "-")")
                }
            }
            if let mode = request.mode {
                guard fchmod(fd, mode_t(mode)) == 0 else { throw failure("--mode", "cannot set mode \(String(mode, radix: 8))") }
            }
            if let due = request.dueTime {
                let stamp = timespec(tv_sec: time_t(due), tv_nsec: 0)
                let times = [stamp, stamp]
                guard futimens(fd, times) == 0 else { throw failure("--at/--in", "cannot set the file's mtime") }
            }
            guard fsync(fd) == 0 else { throw failure("--spool-dir", "cannot sync the new file") }
            open = false
            guard close(fd) == 0 else { throw failure("--spool-dir", "cannot close the new file") }
            try moveIn(root: root, temporary: temporary, outgoing: outgoing, name: request.name, spool: spool)
            placed = true
            guard fsync(outgoing) == 0, fsync(root) == 0 else {
                throw failure("--spool-dir", "the file is in outgoing/ but syncing the directory failed")
            }
        } catch {
            if open { close(fd) }
            if !placed { unlinkat(root, temporary, 0) }
            throw error
        }
        return "\(spool.hasSuffix("/") ? String(spool.dropLast()) : spool)/outgoing/\(request.name)"
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(MakeCallError) {
        guard FileDescriptorOutput.writeAll(fd, bytes) else { throw failure("--spool-dir", "cannot write the call file") }
    }

    /// Renames without replacing (renameat2 RENAME_NOREPLACE); where the filesystem lacks it, a hard link
    /// gives the same no-replace guarantee and the temporary name is then removed.
    private static func moveIn(root: Int32, temporary: String, outgoing: Int32, name: String, spool: String) throws(MakeCallError) {
        if let renameNoReplace = RenameAt2.function {
            if renameNoReplace(root, temporary, outgoing, name, RenameAt2.noReplace) == 0 { return }
            if errno == EEXIST { throw exists(name) }
            guard errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP else {
                throw failure("--spool-dir", "cannot move the file into \(spool)/outgoing")
            }
        }
        guard linkat(root, temporary, outgoing, name, 0) == 0 else {
            if errno == EEXIST { throw exists(name) }
            throw failure("--spool-dir", "cannot link the file into \(spool)/outgoing")
        }
        unlinkat(root, temporary, 0)
    }

    private static func exists(_ name: String) -> MakeCallError {
        MakeCallError(flag: "--name", reason: "outgoing/\(name) already exists; it was left untouched")
    }

    private static func failure(_ flag: String, _ what: String) -> MakeCallError {
        let code = errno
        return MakeCallError(flag: flag, reason: "\(what): \(String(cString: strerror(code))) (errno \(code))")
    }
}

/// Glibc has renameat2 since 2.28, but Swift's Glibc module does not declare it, so it is looked up.
private enum RenameAt2 {
    typealias Function = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32

    static let noReplace: UInt32 = 1  // RENAME_NOREPLACE from <linux/fs.h>

    static let function: Function? = dlsym(nil, "renameat2").map { unsafeBitCast($0, to: Function.self) }
}
