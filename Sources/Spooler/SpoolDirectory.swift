#if canImport(Glibc)
import Glibc
#endif

/// An errno from a named system call, worded for a log line.
public struct SystemError: Error, Equatable, CustomStringConvertible {
    public var operation: String
    public var code: Int32

    public init(_ operation: String, _ code: Int32 = errno) {
        self.operation = operation
        self.code = code
    }

    public var description: String { "\(operation): \(String(cString: strerror(code))) (errno \(code))" }
}

/// What `lstat` says about a name in a spool directory. Symlinks are reported as such, never followed.
public enum EntryKind: Equatable, Sendable {
    case regular
    case symlink
    /// FIFO, socket, device or directory: never opened.
    case other(String)
}

/// A file's identity, whatever its name: replacing a file by rename gives the path another identity.
public struct FileID: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64

    init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
    }

    init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }
}

public struct EntryInfo: Equatable, Sendable {
    public var kind: EntryKind
    public var mtime: SpoolInstant
    public var size: Int64
    public var uid: UInt32
    public var mode: UInt32
    /// Which file this is (device and inode): a path that names another file was replaced.
    public var fileID: FileID

    init(kind: EntryKind, mtime: SpoolInstant, size: Int64, uid: UInt32, mode: UInt32, fileID: FileID) {
        (self.kind, self.mtime, self.size, self.uid, self.mode, self.fileID) = (kind, mtime, size, uid, mode, fileID)
    }

    init(_ st: stat) {
        fileID = FileID(st)
        mtime = SpoolInstant(st.st_mtim)
        size = Int64(st.st_size)
        uid = st.st_uid
        mode = st.st_mode & 0o7777
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFLNK: kind = .symlink
        case S_IFIFO: kind = .other("FIFO")
        case S_IFSOCK: kind = .other("socket")
        case S_IFDIR: kind = .other("directory")
        case S_IFCHR, S_IFBLK: kind = .other("device")
        default: kind = .other("special file")
        }
    }

    /// `uid 1000, mode 0600`, for the log line of a file spoold cannot read or change.
    public var ownership: String { "owner uid \(uid), mode 0\(String(mode, radix: 8))" }
}

/// Why a call file could not be read.
public enum ReadFailure: Error, Equatable {
    case gone
    case symlink
    case notRegular(String)
    case tooLarge(Int64)
    case unreadable(SystemError, EntryInfo?)
}

/// One open spool directory (`outgoing` or `outgoing_done`). Every call is relative to the directory's
/// descriptor with a bare name, so a renamed or replaced parent path cannot redirect spoold, and no
/// call follows a symlink at the last component.
public final class SpoolDirectory: Sendable {
    public let path: String
    let fd: Int32
    /// The `fsync` setting: whether records and renames here are synced to disk (see `DiskSync`).
    public let sync: DiskSync

    /// Opens `path`, creating it (and its parents) with mode 0777 minus the umask when `create` is set,
    /// as Asterisk creates its spool directories.
    public init(path: String, create: Bool, sync: DiskSync = .off) throws(SystemError) {
        if create { try Self.makeDirectories(path) }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open \(path)") }
        self.path = path
        self.fd = fd
        self.sync = sync
    }

    deinit { close(fd) }

    static func makeDirectories(_ path: String) throws(SystemError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o777) != 0, errno != EEXIST { throw SystemError("mkdir \(prefix)") }
        }
    }

    public func info(_ name: String) -> EntryInfo? {
        var st = stat()
        guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        return EntryInfo(st)
    }

    /// A call file opened for its attempt: read whole, and kept open so the StartRetry record goes
    /// through the same descriptor (one open instead of two, on the path every call takes).
    public struct OpenCallFile {
        let fd: Int32
        /// Its name in the directory, for a failed sync's log line.
        let name: String
        public var bytes: [UInt8]
        /// What fstat said at the open.
        public var info: EntryInfo
        /// Why the file could not be opened for writing (EACCES, EROFS, …); 0 when it could.
        let writeErrno: Int32

        public func close() { _ = Glibc.close(fd) }
    }

    /// Reads a whole call file, refusing symlinks, non-regular files and files over `limit` bytes.
    /// O_NONBLOCK keeps a FIFO that replaced the file between lstat and open from blocking us.
    public func readCallFile(_ name: String, limit: Int) -> Result<(bytes: [UInt8], info: EntryInfo), ReadFailure> {
        openCallFile(name, limit: limit, forAppend: false).map { file in
            file.close()
            return (file.bytes, file.info)
        }
    }

    /// `readCallFile`, leaving the file open; for appending too when `forAppend` (and the file allows it).
    /// The caller closes it.
    public func openCallFile(_ name: String, limit: Int, forAppend: Bool) -> Result<OpenCallFile, ReadFailure> {
        let flags = O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
        var fd = forAppend ? openat(self.fd, name, O_RDWR | O_APPEND | flags) : -1
        var writeErrno: Int32 = 0
        if fd < 0 {
            if forAppend {
                writeErrno = errno
                guard [EACCES, EPERM, EROFS, ETXTBSY, EISDIR].contains(writeErrno) else { return .failure(Self.openFailure(writeErrno, info(name))) }
            }
            fd = openat(self.fd, name, O_RDONLY | flags)
            guard fd >= 0 else { return .failure(Self.openFailure(errno, info(name))) }
        }
        switch Self.readWhole(fd, limit: limit) {
        case .success(let (bytes, info)):
            return .success(OpenCallFile(fd: fd, name: name, bytes: bytes, info: info, writeErrno: writeErrno))
        case .failure(let failure):
            _ = Glibc.close(fd)
            return .failure(failure)
        }
    }

    /// A name that is no longer a regular file (a directory, socket or device took its place since it was
    /// listed) is reported as such, not as unreadable.
    private static func openFailure(_ code: Int32, _ info: @autoclosure () -> EntryInfo?) -> ReadFailure {
        switch code {
        case ENOENT: return .gone
        case ELOOP: return .symlink
        default:
            let info = info()
            if let info, info.kind != .regular { return info.kind == .symlink ? .symlink : .notRegular(kindName(info.kind)) }
            return .unreadable(SystemError("open", code), info)
        }
    }

    private static func readWhole(_ fd: Int32, limit: Int) -> Result<(bytes: [UInt8], info: EntryInfo), ReadFailure> {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .failure(.unreadable(SystemError("fstat"), nil)) }
        let info = EntryInfo(st)
        guard info.kind == .regular else { return .failure(.notRegular(kindName(info.kind))) }
        guard info.size <= Int64(limit) else { return .failure(.tooLarge(info.size)) }
        // Read one byte past the size so a file that grew since fstat is still caught; a short read of a
        // regular file is its end, so the usual file takes a single read.
        var bytes = [UInt8](repeating: 0, count: Int(info.size) + 1)
        var filled = 0
        while true {
            let n = bytes.withUnsafeMutableBytes { buffer in
                pread(fd, buffer.baseAddress! + filled, buffer.count - filled, off_t(filled))
            }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(.unreadable(SystemError("read"), info))
            }
            if n == 0 { break }
            filled += n
            if filled > limit { return .failure(.tooLarge(Int64(filled))) }
            if filled < bytes.count { break }
            bytes.append(contentsOf: repeatElement(0, count: 4096))
        }
        bytes.removeSubrange(filled...)
        return .success((bytes, info))
    }

    private static func kindName(_ kind: EntryKind) -> String {
        switch kind {
        case .regular: return "regular file"
        case .symlink: return "symlink"
        case .other(let name): return name
        }
    }

    /// The outcome of appending a retry record.
    public struct AppendResult {
        /// The file's length before the record: truncating to it takes the record back out.
        public var lengthBefore: Int64
        /// The file the record went into.
        public var fileID: FileID
        /// Set when the record was written but the times could not be set (EPERM unless spoold owns it).
        public var timesError: SystemError?
    }

    /// Appends `bytes` with a single write(2), then sets the times, then (with `fsync` on) syncs the file.
    /// The record is either wholly written or the call throws; a short write or a failed sync is undone
    /// so the file never holds half a record, nor one that may not be on disk.
    public func append(_ bytes: [UInt8], to name: String, atime: SpoolInstant?, mtime: SpoolInstant?) throws(SystemError) -> AppendResult {
        let fd = openat(self.fd, name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open for append") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SystemError("fstat") }
        guard st.st_mode & S_IFMT == S_IFREG else { throw SystemError("append", EINVAL) }
        return try append(bytes, fd: fd, name: name, lengthBefore: Int64(st.st_size), mtimeBefore: SpoolInstant(st.st_mtim),
                          fileID: FileID(st), atime: atime, mtime: mtime)
    }

    /// `append` through the descriptor `openCallFile` left open. The length before is what was read: the
    /// file is a regular one read to its end moments ago.
    public func append(_ bytes: [UInt8], to file: OpenCallFile, atime: SpoolInstant?, mtime: SpoolInstant?) throws(SystemError) -> AppendResult {
        guard file.writeErrno == 0 else { throw SystemError("open for append", file.writeErrno) }
        return try append(bytes, fd: file.fd, name: file.name, lengthBefore: Int64(file.bytes.count),
                          mtimeBefore: file.info.mtime, fileID: file.info.fileID, atime: atime, mtime: mtime)
    }

    private func append(_ bytes: [UInt8], fd: Int32, name: String, lengthBefore: Int64, mtimeBefore: SpoolInstant,
                        fileID: FileID, atime: SpoolInstant?, mtime: SpoolInstant?) throws(SystemError) -> AppendResult {
        var written: Int
        repeat {
            written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        } while written < 0 && errno == EINTR
        if written != bytes.count {
            let error = SystemError("write", written < 0 ? errno : ENOSPC)
            if written > 0 { _ = ftruncate(fd, off_t(lengthBefore)) }
            throw error
        }
        var timesError: SystemError?
        if let mtime {
            if !Self.setTimes(fd: fd, atime: atime ?? mtime, mtime: mtime) { timesError = SystemError("set times") }
        }
        do {
            try sync.sync(fd, .file(name, in: path))
        } catch {
            _ = ftruncate(fd, off_t(lengthBefore))
            if mtime != nil, timesError == nil { _ = Self.setTimes(fd: fd, atime: mtimeBefore, mtime: mtimeBefore) }
            throw error
        }
        return AppendResult(lengthBefore: lengthBefore, fileID: fileID, timesError: timesError)
    }

    /// Takes an appended record back out and restores the mtime (an Originate that never left spoold).
    public func truncate(_ name: String, to length: Int64, mtime: SpoolInstant) throws(SystemError) {
        let fd = openat(self.fd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open for truncate") }
        defer { close(fd) }
        guard ftruncate(fd, off_t(length)) == 0 else { throw SystemError("ftruncate") }
        _ = Self.setTimes(fd: fd, atime: mtime, mtime: mtime)
        try sync.sync(fd, .file(name, in: path))
    }

    /// Sets a file's times by name, never through a symlink (a held file's mtime, `spoold reschedule`).
    public func setTimes(_ name: String, atime: SpoolInstant, mtime: SpoolInstant) throws(SystemError) {
        var times = [atime.timespec, mtime.timespec]
        guard utimensat(fd, name, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw SystemError("set times") }
    }

    static func setTimes(fd: Int32, atime: SpoolInstant, mtime: SpoolInstant) -> Bool {
        var times = [atime.timespec, mtime.timespec]
        return futimens(fd, &times) == 0
    }

    /// The last `count` bytes of a file (fewer if it is shorter).
    func tail(_ name: String, count: Int) -> [UInt8]? {
        let fd = openat(self.fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let length = min(Int(st.st_size), count)
        var bytes = [UInt8](repeating: 0, count: length)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, off_t(Int(st.st_size) - length)) }
        return n == length ? bytes : nil
    }

    /// Creates `name` (which must not exist) holding `bytes`, with `mode` and `mtime`; with `fsync` on, synced
    /// before it is closed (it is renamed over a call file next, and must not replace it with less).
    func writeNewFile(_ name: String, bytes: [UInt8], mode: UInt32, mtime: SpoolInstant?) throws(SystemError) {
        let fd = openat(self.fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else { throw SystemError("create \(name)") }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            let error = SystemError("write", written < 0 ? errno : ENOSPC)
            _ = unlinkat(self.fd, name, 0)
            throw error
        }
        if let mtime { _ = Self.setTimes(fd: fd, atime: mtime, mtime: mtime) }
        do {
            try sync.sync(fd, .file(name, in: path))
        } catch {
            _ = unlinkat(self.fd, name, 0)
            throw error
        }
    }

    /// Where a symlink points, read without following it; control bytes shown as `?` for log lines.
    func linkTarget(_ name: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { readlinkat(fd, name, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) }
        guard n >= 0 else { return nil }
        return String(decoding: buffer[..<n].map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: "?") : $0 }, as: UTF8.self)
    }

    public func unlink(_ name: String) throws(SystemError) {
        guard unlinkat(fd, name, 0) == 0 else { throw SystemError("unlink") }
    }

    /// Every name in the directory except `.` and `..`.
    public func names(hiddenOnly: Bool = false) throws(SystemError) -> [String] {
        let dupFD = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dupFD >= 0 else { throw SystemError("opendir \(path)") }
        guard let dir = fdopendir(dupFD) else {
            // fdopendir takes the descriptor only when it succeeds: close it here, keeping its errno.
            let error = SystemError("opendir \(path)")
            close(dupFD)
            throw error
        }
        defer { closedir(dir) }
        var result: [String] = []
        while let entry = readdir(dir) {
            if hiddenOnly && entry.pointee.d_name.0 != CChar(46) { continue }  // only names starting with "."
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != ".", name != ".." { result.append(name) }
        }
        return result
    }

    /// Renames `name` here to `newName` in `target`; fails rather than replace when `noReplace` is set.
    /// With `fsync` on, the target directory is then synced, and this one too when it is another: the new
    /// name first, so that at no point is the file durably in neither.
    func rename(_ name: String, to target: SpoolDirectory, as newName: String, noReplace: Bool) throws(SystemError) {
        let ok = noReplace
            ? Self.renameNoReplace(fd, name, target.fd, newName) == 0
            : renameat(fd, name, target.fd, newName) == 0
        guard ok else { throw SystemError("rename \(name) to \(target.path)/\(newName)") }
        guard sync.isEnabled else { return }
        // The rename has happened and cannot be taken back: a failed sync is reported, not thrown.
        do {
            try sync.sync(target.fd, .directory(target.path))
            if target !== self { try sync.sync(fd, .directory(path)) }
        } catch {
            sync.unsyncedRename(error)
        }
    }

    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32

    /// glibc's renameat2 (2.28+), looked up at run time because Swift's Glibc module does not export it.
    private static let renameat2: RenameAt2? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: RenameAt2.self)
    }()

    /// rename that fails with EEXIST instead of replacing. Without renameat2 (or on a file system that
    /// lacks the flag), a hard link gives the same guarantee: link fails on an existing name.
    private static func renameNoReplace(_ fromFD: Int32, _ from: String, _ toFD: Int32, _ to: String) -> Int32 {
        if let renameat2 {
            let result = renameat2(fromFD, from, toFD, to, 1 /* RENAME_NOREPLACE */)
            if result == 0 || (errno != EINVAL && errno != ENOSYS) { return result }
        }
        guard linkat(fromFD, from, toFD, to, 0) == 0 else { return -1 }
        return unlinkat(fromFD, from, 0)
    }

    func openForAppend(_ name: String) -> Int32 {
        openat(fd, name, O_RDWR | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
    }
}

/// spoold's uid, for log lines about files it cannot read or write.
func currentUID() -> UInt32 { getuid() }
