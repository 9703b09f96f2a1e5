#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Spooler

/// `<spool>/.spoold.status`: the running daemon's latest `StatusSnapshot`, replaced atomically (write a
/// temporary, rename over) so a reader never sees half a file. Whether a daemon runs is not decided by
/// this file (a crash leaves it behind) but by the lock, see `DaemonProbe`.
public struct StatusFile: Sendable {
    public let path: String

    public init(spoolDirectory: String) {
        path = spoolDirectory + "/.spoold.status"
    }

    public func write(_ snapshot: StatusSnapshot) throws(SystemError) {
        let bytes: [UInt8]
        do {
            bytes = Array(try JSONEncoder().encode(snapshot)) + [UInt8(ascii: "\n")]
        } catch {
            throw SystemError("encode the status", EINVAL)
        }
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError("open \(temporary)") }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                let error = SystemError("write \(temporary)")
                close(fd)
                unlink(temporary)
                throw error
            }
            offset += written
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let error = SystemError("rename \(temporary) to \(path)")
            unlink(temporary)
            throw error
        }
    }

    public func read() throws -> StatusSnapshot {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open \(path)") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw SystemError("read \(path)") }
            if count == 0 { break }
            bytes += chunk[..<count]
            guard bytes.count <= 1 << 20 else { throw SystemError("read \(path) (over 1 MiB)", EFBIG) }
        }
        return try JSONDecoder().decode(StatusSnapshot.self, from: Data(bytes))
    }

    public func remove() {
        unlink(path)
    }
}

/// Whether a spoold runs on a spool: it does exactly while some process holds the flock on
/// `<spool>/.spoold.lock`. The kernel lists held locks in /proc/locks, so the probe only reads; it never
/// takes the lock itself, which could make a spoold starting at that moment refuse to run.
public enum DaemonProbe {
    public enum Answer: Equatable, Sendable {
        /// Held, by this pid as /proc/locks reports it (0 when the holder is outside our pid namespace).
        case running(pid: Int)
        case noLockFile
        case notHeld
    }

    public static func probe(spoolDirectory: String, locks: String? = nil) throws(SystemError) -> Answer {
        let lockPath = spoolDirectory + "/.spoold.lock"
        var info = stat()
        guard lstat(lockPath, &info) == 0 else {
            if errno == ENOENT { return .noLockFile }
            throw SystemError("stat \(lockPath)")
        }
        let table: String
        if let locks {
            table = locks
        } else {
            guard let text = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else {
                throw SystemError("read /proc/locks")
            }
            table = text
        }
        let device = UInt64(info.st_dev)
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~0xfff)
        let minor = (device & 0xff) | ((device >> 12) & ~0xff)
        if let pid = holder(in: table, major: major, minor: minor, inode: UInt64(info.st_ino)) {
            return .running(pid: pid)
        }
        return .notHeld
    }

    /// Finds an exclusive flock on the file in /proc/locks, whose lines read
    /// `1: FLOCK  ADVISORY  WRITE 1234 fe:00:16223653 0 EOF` (device numbers in hex, inode in decimal);
    /// lines with `->` are processes waiting for a lock, not holding one.
    static func holder(in table: String, major: UInt64, minor: UInt64, inode: UInt64) -> Int? {
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 6, fields[1] == "FLOCK", fields[3] == "WRITE" else { continue }
            let id = fields[5].split(separator: ":")
            guard id.count == 3, UInt64(id[0], radix: 16) == major, UInt64(id[1], radix: 16) == minor,
                  UInt64(id[2]) == inode else { continue }
            return Int(fields[4]) ?? 0
        }
        return nil
    }
}
