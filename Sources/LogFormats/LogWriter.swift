#if canImport(Glibc)
import Glibc
#endif
import Logging

/// One log event as it was logged: its time, taken when the event happened, and everything its line is
/// made of. The line is made on the writer's thread, not on the logging one.
public struct LogRecord: Sendable {
    public var format: LogFormat
    public var time: timespec
    public var level: Logger.Level
    public var message: String
    public var metadata: Logger.Metadata

    public init(format: LogFormat, time: timespec, level: Logger.Level, message: String, metadata: Logger.Metadata) {
        self.format = format
        self.time = time
        self.level = level
        self.message = message
        self.metadata = metadata
    }
}

/// Writes every log line of the process, in every format, from one thread of its own, so that logging
/// costs the engine a queue append instead of formatting and a write(2) per line (two lines per call
/// file: 20,000 files a burst made 40,000 synchronous writes on the engine's path).
///
/// Nothing is dropped: a line waits in the queue until it is written, a full queue makes the logging
/// thread wait, and `flush()` (also run at exit, for `standardError`) returns once every line logged
/// before it is written. Lines keep the order in which they were logged. The writer wakes for the first
/// line of an empty queue and writes about a millisecond later, with whatever lines joined it by then;
/// while lines keep coming it writes them as fast as the descriptor takes them, many per write.
public final class LogWriter: @unchecked Sendable {
    // @unchecked: every mutable field is only touched with `mutex` held; the pthread objects are
    // allocated once and live as long as the writer, whose thread keeps it alive (writers are never
    // torn down: the process's one writer lives until exit, a test's until the test process ends).

    /// The process's writer: file descriptor 2, flushed at exit.
    public static let standardError: LogWriter = {
        let writer = LogWriter(descriptor: STDERR_FILENO)
        // Lines logged just before the process exits still reach stderr.
        atexit { LogWriter.standardError.flush() }
        return writer
    }()

    /// Lines waiting before a logging thread has to wait for the writer.
    public let capacity: Int
    /// How long the writer lets lines gather after a quiet spell: the delay a single line may see.
    static let gatherMicroseconds: UInt32 = 1_000

    private let descriptor: Int32
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Signalled when the first line enters an empty queue.
    private let linesQueued = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Broadcast after each write: for `flush()` and for loggers waiting on a full queue.
    private let linesWritten = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// What `mutex` guards. Behind a pointer, like the pthread objects, because the mutex is what keeps
    /// accesses apart: as stored properties of the class, each access also paid Swift's run-time
    /// exclusivity check (about 400 instructions per line on the logging thread).
    private struct Queue {
        var pending: [LogRecord] = []
        var queuedCount: UInt64 = 0
        var writtenCount: UInt64 = 0
        var writerWaiting = false
    }
    private let queue = UnsafeMutablePointer<Queue>.allocate(capacity: 1)

    /// A writer to `descriptor`, which it never closes. One per process is the rule (`standardError`);
    /// tests make their own on a file.
    public init(descriptor: Int32, capacity: Int = 65_536) {
        precondition(capacity > 0)
        self.descriptor = descriptor
        self.capacity = capacity
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(linesQueued, nil)
        pthread_cond_init(linesWritten, nil)
        queue.initialize(to: Queue())
        queue.pointee.pending.reserveCapacity(1024)
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { context in
            // The thread holds the writer for as long as it runs, which is as long as the process.
            Unmanaged<LogWriter>.fromOpaque(context!).takeRetainedValue().writeForever()
            return nil
        }, Unmanaged.passRetained(self).toOpaque())
        precondition(started == 0, "cannot start the log writer thread (error \(started))")
        pthread_detach(thread)
    }

    /// Queues one line; waits only while `capacity` lines are already waiting.
    public func write(_ record: LogRecord) {
        pthread_mutex_lock(mutex)
        while queue.pointee.pending.count >= capacity { pthread_cond_wait(linesWritten, mutex) }
        queue.pointee.pending.append(record)
        queue.pointee.queuedCount += 1
        let wake = queue.pointee.writerWaiting
        queue.pointee.writerWaiting = false
        pthread_mutex_unlock(mutex)
        if wake { pthread_cond_signal(linesQueued) }
    }

    /// Returns once every line queued before the call has been written.
    public func flush() {
        pthread_mutex_lock(mutex)
        let target = queue.pointee.queuedCount
        while queue.pointee.writtenCount < target { pthread_cond_wait(linesWritten, mutex) }
        pthread_mutex_unlock(mutex)
    }

    /// Lines queued and lines written so far (for tests and benchmarks).
    public var counts: (queued: UInt64, written: UInt64) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return (queue.pointee.queuedCount, queue.pointee.writtenCount)
    }

    private func writeForever() -> Never {
        var plain = PlainLineFormatter()
        var batch: [LogRecord] = []
        batch.reserveCapacity(1024)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 * 1024)
        while true {
            pthread_mutex_lock(mutex)
            if queue.pointee.pending.isEmpty {
                while queue.pointee.pending.isEmpty {
                    queue.pointee.writerWaiting = true
                    pthread_cond_wait(linesQueued, mutex)
                }
                // Woken by a first line: let the lines of the same burst join it, so that a burst
                // costs one wake-up and one write per gathering rather than per line.
                pthread_mutex_unlock(mutex)
                usleep(Self.gatherMicroseconds)
                pthread_mutex_lock(mutex)
            }
            swap(&batch, &queue.pointee.pending)
            pthread_mutex_unlock(mutex)

            bytes.removeAll(keepingCapacity: true)
            for record in batch {
                switch record.format {
                case .plain:
                    plain.append(record, to: &bytes)
                case .journald:
                    bytes += LogLineFormatter.journald.line(level: record.level, message: record.message, metadata: record.metadata).utf8
                case .json:
                    bytes += LogLineFormatter.json.line(level: record.level, message: record.message, metadata: record.metadata,
                                                        time: record.time).utf8
                }
            }
            writeAll(bytes)

            pthread_mutex_lock(mutex)
            queue.pointee.writtenCount += UInt64(batch.count)
            pthread_mutex_unlock(mutex)
            pthread_cond_broadcast(linesWritten)
            batch.removeAll(keepingCapacity: true)
        }
    }

    /// A failed write (stderr closed) loses only what could not be written; spoold goes on.
    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            guard var address = buffer.baseAddress else { return }
            var left = buffer.count
            while left > 0 {
                let n = Glibc.write(descriptor, address, left)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                address += n
                left -= n
            }
        }
    }
}

/// `2026-11-22T12:00:05.123Z notice <message> key=value…\n`. The date and time to the second are
/// formatted once per second, not once per line.
struct PlainLineFormatter {
    private var second = Int.min
    private var secondText: [UInt8] = []

    mutating func append(_ record: LogRecord, to bytes: inout [UInt8]) {
        if record.time.tv_sec != second {
            second = record.time.tv_sec
            secondText = Self.format(second: record.time.tv_sec)
        }
        bytes += secondText
        bytes.append(UInt8(ascii: "."))
        Self.appendDigits(record.time.tv_nsec / 1_000_000, width: 3, to: &bytes)
        bytes += "Z ".utf8
        Self.append(record.level.rawValue, to: &bytes)
        bytes.append(UInt8(ascii: " "))
        Self.append(record.message, to: &bytes)
        // The engine's lines carry no metadata: nothing to sort.
        for (key, value) in record.metadata.isEmpty ? [] : record.metadata.sorted(by: { $0.key < $1.key }) {
            bytes.append(UInt8(ascii: " "))
            bytes += key.utf8
            bytes.append(UInt8(ascii: "="))
            bytes += value.description.utf8
        }
        bytes.append(UInt8(ascii: "\n"))
    }

    /// A string's UTF-8 copied at once where it is contiguous (a native String's always is), rather than
    /// appended a code unit at a time through the generic path.
    static func append(_ text: String, to bytes: inout [UInt8]) {
        if text.utf8.withContiguousStorageIfAvailable({ bytes.append(contentsOf: $0) }) == nil {
            bytes += text.utf8
        }
    }

    /// `2026-11-22T12:00:05` in UTC.
    static func format(second: Int) -> [UInt8] {
        var seconds = second
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text: [UInt8] = []
        text.reserveCapacity(19)
        appendDigits(Int(parts.tm_year) + 1900, width: 4, to: &text)
        text.append(UInt8(ascii: "-"))
        appendDigits(Int(parts.tm_mon) + 1, width: 2, to: &text)
        text.append(UInt8(ascii: "-"))
        appendDigits(Int(parts.tm_mday), width: 2, to: &text)
        text.append(UInt8(ascii: "T"))
        appendDigits(Int(parts.tm_hour), width: 2, to: &text)
        text.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_min), width: 2, to: &text)
        text.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_sec), width: 2, to: &text)
        return text
    }

    /// `value` in decimal, zero-padded to `width` digits (more digits if it needs them).
    static func appendDigits(_ value: Int, width: Int, to bytes: inout [UInt8]) {
        let value = max(0, value)
        var scale = 1
        var count = 1
        while value / scale >= 10 {
            scale *= 10
            count += 1
        }
        for _ in count..<max(width, count) { bytes.append(UInt8(ascii: "0")) }
        while scale > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(value / scale % 10))
            scale /= 10
        }
    }
}
