#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOPosix
import ServiceLifecycle
import Spooler
import Synchronization

/// Appends result-log lines to a file. The event consumer hands lines over without waiting; this service
/// writes them in batches on NIO's blocking-I/O thread pool, so a slow disk never holds up the engine or
/// the cooperative threads.
///
/// When `capacity` lines are waiting (the disk stalled for that long), further lines are dropped, counted
/// in `spoold_result_log_dropped_total` and logged: the call files themselves, archived with their Status,
/// stay the record of truth. The file is opened for each batch (O_APPEND), so logrotate can move it away
/// at any time without a signal; a lost write is counted and logged, never retried out of order.
public final class ResultLogWriter: Service, Sendable, CustomStringConvertible {
    public static let defaultCapacity = 10_000

    public let path: String
    private let queue: BoundedQueue<[UInt8]>
    private let logger: Logger
    private let metrics: SpoolMetrics?
    /// Log the first drop or write error of a streak, not every line.
    private let dropping = Atomic<Bool>(false)
    private let failing = Atomic<Bool>(false)

    public init(path: String, capacity: Int = defaultCapacity, metrics: SpoolMetrics?, logger: Logger) {
        self.path = path
        self.queue = BoundedQueue(capacity: capacity)
        self.metrics = metrics
        self.logger = logger
    }

    public var description: String { "ResultLogWriter(\(path))" }

    /// Checks at start-up that the file can be opened for appending (and creates it), so that a wrong
    /// path stops `spoold run` with a clear message instead of failing line after line.
    public static func checkWritable(_ path: String) throws(SystemError) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw SystemError("open \(path) for appending") }
        close(fd)
    }

    /// Queues one line (newline included). False when it was dropped.
    @discardableResult
    public func submit(_ line: [UInt8]) -> Bool {
        switch queue.push(line) {
        case .queued:
            if dropping.exchange(false, ordering: .relaxed) {
                logger.notice("result log \(path): the writer caught up; lines are written again")
            }
            return true
        case .full:
            metrics?.recordResultLogDrop()
            if !dropping.exchange(true, ordering: .relaxed) {
                logger.error("result log \(path): \(queue.capacity) lines wait to be written (is the disk stalled?); dropping lines until it catches up (the call files keep their Status)")
            }
            return false
        case .finished:
            return false
        }
    }

    /// No more lines: `run` writes what is queued and returns.
    public func finish() { queue.finish() }

    public func run() async {
        while let batch = await queue.popAll() {
            let path = self.path
            let bytes = batch.flatMap { $0 }
            let result: Result<Void, SystemError>
            do {
                result = try await NIOThreadPool.singleton.runIfActive { Self.append(bytes, to: path) }
            } catch {
                result = .failure(SystemError("hand the write to the I/O thread pool", EIO))
            }
            switch result {
            case .success:
                if failing.exchange(false, ordering: .relaxed) {
                    logger.notice("result log \(path): writing works again")
                }
            case .failure(let error):
                metrics?.recordResultLogWriteErrors(batch.count)
                if !failing.exchange(true, ordering: .relaxed) {
                    logger.error("result log \(path): cannot append \(batch.count) lines: \(error); lines are lost until writing works again (the call files keep their Status)")
                }
            }
        }
    }

    static func append(_ bytes: [UInt8], to path: String) -> Result<Void, SystemError> {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o640)
        guard fd >= 0 else { return .failure(SystemError("open \(path)")) }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return .failure(SystemError("write \(path)"))
            }
            offset += written
        }
        return .success(())
    }
}
