import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Thin wrappers over the POSIX calls the tests (and the fault tool) need with exact semantics (no symlink following,
/// nanosecond times), which Foundation either hides or rounds.
public enum FileSystem {
    public struct Failure: Error, CustomStringConvertible {
        public let call: String
        public let path: String
        public let code: Int32

        public init(call: String, path: String, code: Int32) {
            self.call = call
            self.path = path
            self.code = code
        }

        public var description: String { "\(call)(\(path)): \(String(cString: strerror(code)))" }
    }

    /// The file's metadata without following a symlink, or nil when nothing is there.
    public static func lstatus(_ path: String) -> stat? {
        var info = stat()
        return lstat(path, &info) == 0 ? info : nil
    }

    public static func exists(_ path: String) -> Bool { lstatus(path) != nil }

    /// Modification time in seconds since the epoch, with the fraction.
    public static func mtime(_ path: String) -> Double? {
        guard let info = lstatus(path) else { return nil }
        return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
    }

    public static func setMtime(_ path: String, to epoch: Double) throws {
        let whole = epoch.rounded(.down)
        let stamp = timespec(tv_sec: Int(whole), tv_nsec: Int((epoch - whole) * 1e9))
        var times = [stamp, stamp]
        guard utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw Failure(call: "utimensat", path: path, code: errno)
        }
    }

    public static func now() -> Double { Date().timeIntervalSince1970 }

    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failure(call: "open", path: path, code: errno) }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(call: "write", path: path, code: errno) }
            written += n
        }
    }

    public static func read(_ path: String) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return [UInt8](data)
    }

    public static func rename(_ from: String, _ to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw Failure(call: "rename", path: "\(from) -> \(to)", code: errno) }
    }

    public static func makeFIFO(_ path: String) throws {
        guard mkfifo(path, 0o644) == 0 else { throw Failure(call: "mkfifo", path: path, code: errno) }
    }

    public static func symlink(_ target: String, at path: String) throws {
        guard Glibc.symlink(target, path) == 0 else { throw Failure(call: "symlink", path: path, code: errno) }
    }

    public static func chmod(_ path: String, _ mode: mode_t) throws {
        guard Glibc.chmod(path, mode) == 0 else { throw Failure(call: "chmod", path: path, code: errno) }
    }

    /// A listening Unix socket bound at `path`; the descriptor is closed again at once, the inode stays.
    public static func makeSocket(_ path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(call: "socket", path: path, code: errno) }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.prefix(buffer.count - 1).enumerated() { buffer[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { throw Failure(call: "bind", path: path, code: errno) }
    }
}
