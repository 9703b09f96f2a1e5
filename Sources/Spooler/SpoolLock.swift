#if canImport(Glibc)
import Glibc
#endif

/// `<spool>/.spoold.lock`, held with flock for the life of the process so that a second spoold on the
/// same spool refuses to start (or, in standby, waits for it). The file holds the owner's pid and host
/// name, for messages only; the kernel (or, on NFSv4, the server when the client's lease ends) drops
/// the lock when the process dies, so a stale file never blocks a restart or a takeover.
public final class SpoolLock: Sendable {
    /// Who holds the lock, as its file says: `<pid>\n<host>\n`. Either part may be missing (a spoold
    /// that wrote only its pid, a file being rewritten at the moment it was read).
    public struct Holder: Sendable, Equatable, CustomStringConvertible {
        public var pid: Int?
        public var host: String?

        public init(pid: Int?, host: String?) {
            self.pid = pid
            self.host = host
        }

        /// `pid 1234 on pbx-a`
        public var description: String {
            "pid \(pid.map(String.init) ?? "unknown") on \(host ?? "unknown host")"
        }

        /// The file's contents. Only what a message can show is kept: the host name stops at the first
        /// byte that is not printable ASCII, and at 255 bytes.
        public init(fileContents bytes: some Collection<UInt8>) {
            let lines = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
            pid = lines.first.flatMap { line in
                let digits = line.prefix(while: { $0 >= 0x30 && $0 <= 0x39 })
                return digits.isEmpty || digits.count > 10 ? nil : Int(String(decoding: digits, as: UTF8.self))
            }
            host = lines.dropFirst().first.flatMap { line in
                let printable = line.prefix(while: { $0 > 0x20 && $0 < 0x7f }).prefix(255)
                return printable.isEmpty ? nil : String(decoding: printable, as: UTF8.self)
            }
        }

        /// What the holder writes.
        public var fileContents: [UInt8] { Array("\(pid.map(String.init) ?? "")\n\(host ?? "")\n".utf8) }
    }

    public enum Failure: Error, CustomStringConvertible {
        case held(path: String, holder: Holder)
        case system(SystemError)

        public var description: String {
            switch self {
            case .held(let path, let holder):
                return "another spoold (\(holder)) holds \(path)"
            case .system(let error):
                return error.description
            }
        }
    }

    public let path: String
    private let fd: Int32

    public static func path(spoolDirectory: String) -> String { spoolDirectory + "/.spoold.lock" }

    /// Takes the lock at once, or throws `.held` with what the holder wrote.
    public init(spoolDirectory: String, pid: Int32 = getpid(), host: String = SpoolLock.hostName()) throws(Failure) {
        do {
            try SpoolDirectory.makeDirectories(spoolDirectory)
        } catch {
            throw .system(error)
        }
        let path = Self.path(spoolDirectory: spoolDirectory)
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system(SystemError("open \(path)")) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Self.readHolder(fd)
            close(fd)
            throw .held(path: path, holder: holder)
        }
        let text = Holder(pid: Int(pid), host: host).fileContents
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// This machine's name, as the holder's host in the lock file.
    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown host" }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func readHolder(_ fd: Int32) -> Holder {
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return Holder(pid: nil, host: nil) }
        return Holder(fileContents: buffer[..<n])
    }
}

extension SpoolLock {
    /// What a standby does between two tries of the lock.
    public enum StandbyEvent: Sendable, Equatable {
        /// The first refusal, and each time the holder changes: say who holds the spool.
        case waiting(Holder)
    }

    /// Tries the lock every `interval` until it is free (then returns it) or the task is cancelled
    /// (then returns nil). `event` hears who holds it, once per holder. Polling rather than a blocking
    /// flock: a blocked flock cannot be interrupted by a graceful shutdown, and over NFS the client
    /// polls the server for a blocked lock anyway.
    public static func waitForLock(
        spoolDirectory: String,
        interval: Duration = .milliseconds(200),
        event: @Sendable (StandbyEvent) async -> Void
    ) async throws(Failure) -> SpoolLock? {
        var lastHolder: Holder?
        while !Task.isCancelled {
            do throws(Failure) {
                return try SpoolLock(spoolDirectory: spoolDirectory)
            } catch .held(_, let holder) {
                if holder != lastHolder {
                    lastHolder = holder
                    await event(.waiting(holder))
                }
            }
            do {
                try await Task.sleep(for: interval)
            } catch {
                return nil
            }
        }
        return nil
    }
}
