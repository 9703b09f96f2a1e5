#if canImport(Glibc)
import Glibc
#endif

/// `<spool>/.spoold.lock`, held with flock for the life of the process so that a second spoold on the
/// same spool refuses to start. The file holds the owner's pid for the error message only; the kernel
/// drops the lock when the process dies, so a stale file never blocks a restart.
public final class SpoolLock: Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case held(path: String, pid: Int?)
        case system(SystemError)

        public var description: String {
            switch self {
            case .held(let path, let pid):
                return "another spoold (pid \(pid.map(String.init) ?? "unknown")) holds \(path)"
            case .system(let error):
                return error.description
            }
        }
    }

    public let path: String
    private let fd: Int32

    public init(spoolDirectory: String, pid: Int32 = getpid()) throws(Failure) {
        do {
            try SpoolDirectory.makeDirectories(spoolDirectory)
        } catch {
            throw .system(error)
        }
        let path = spoolDirectory + "/.spoold.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system(SystemError("open \(path)")) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Self.readPID(fd)
            close(fd)
            throw .held(path: path, pid: holder)
        }
        let text = Array("\(pid)\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    private static func readPID(_ fd: Int32) -> Int? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return Int(String(decoding: buffer[..<n].prefix(while: { $0 >= 0x30 && $0 <= 0x39 }), as: UTF8.self))
    }
}
