#if canImport(Glibc)
import Glibc
#endif
import Logging

/// Writes log lines to stderr from one thread of its own, so that logging costs the engine a queue append
/// instead of a formatted timestamp and a write(2) per line (two lines per call file: 20,000 files a burst
/// made 40,000 synchronous writes on the engine's path).
///
/// Nothing is dropped: a line waits in the queue until it is written, a full queue makes the logging
/// thread wait, and `flush()` (also run at exit) returns once every line logged before it is written.
/// Lines keep the order in which they were logged. The writer wakes for the first line of an empty queue
/// and writes about a millisecond later, with whatever lines joined it by then; while lines keep coming
/// it writes them as fast as stderr takes them, many per write.
final class StderrWriter: @unchecked Sendable {
    // @unchecked: every mutable field is only touched with `mutex` held; the pthread objects are
    // allocated once and live as long as the process (the writer is never torn down).
    static let shared = StderrWriter(descriptor: 2)

    struct Line {
        var seconds: Int
        var milliseconds: Int
        var level: Logger.Level
        var text: String
    }

    /// Lines waiting before a logging thread has to wait for the writer.
    static let capacity = 65_536
    /// How long the writer lets lines gather after a quiet spell: the delay a single line may see.
    static let gatherMicroseconds: UInt32 = 1_000

    private let descriptor: Int32
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Signalled when the first line enters an empty queue.
    private let linesQueued = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Broadcast after each write: for `flush()` and for loggers waiting on a full queue.
    private let linesWritten = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var pending: [Line] = []
    private var queuedCount: UInt64 = 0
    private var writtenCount: UInt64 = 0
    private var writerWaiting = false

    private init(descriptor: Int32) {
        self.descriptor = descriptor
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(linesQueued, nil)
        pthread_cond_init(linesWritten, nil)
        pending.reserveCapacity(1024)
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { context in
            Unmanaged<StderrWriter>.fromOpaque(context!).takeUnretainedValue().writeForever()
            return nil
        }, Unmanaged.passUnretained(self).toOpaque())
        precondition(started == 0, "cannot start the log writer thread (error \(started))")
        pthread_detach(thread)
        // Lines logged just before the process exits still reach stderr.
        atexit { StderrWriter.shared.flush() }
    }

    func write(_ line: Line) {
        pthread_mutex_lock(mutex)
        while pending.count >= Self.capacity { pthread_cond_wait(linesWritten, mutex) }
        pending.append(line)
        queuedCount += 1
        let wake = writerWaiting
        writerWaiting = false
        pthread_mutex_unlock(mutex)
        if wake { pthread_cond_signal(linesQueued) }
    }

    /// Returns once every line queued before the call has been written.
    func flush() {
        pthread_mutex_lock(mutex)
        let target = queuedCount
        while writtenCount < target { pthread_cond_wait(linesWritten, mutex) }
        pthread_mutex_unlock(mutex)
    }

    private func writeForever() {
        var formatter = LineFormatter()
        var batch: [Line] = []
        batch.reserveCapacity(1024)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 * 1024)
        while true {
            pthread_mutex_lock(mutex)
            if pending.isEmpty {
                while pending.isEmpty {
                    writerWaiting = true
                    pthread_cond_wait(linesQueued, mutex)
                }
                // Woken by a first line: let the lines of the same burst join it, so that a burst
                // costs one wake-up and one write per gathering rather than per line.
                pthread_mutex_unlock(mutex)
                usleep(Self.gatherMicroseconds)
                pthread_mutex_lock(mutex)
            }
            swap(&batch, &pending)
            pthread_mutex_unlock(mutex)

            bytes.removeAll(keepingCapacity: true)
            for line in batch { formatter.append(line, to: &bytes) }
            writeAll(bytes)

            pthread_mutex_lock(mutex)
            writtenCount += UInt64(batch.count)
            pthread_mutex_unlock(mutex)
            pthread_cond_broadcast(linesWritten)
            batch.removeAll(keepingCapacity: true)
        }
    }

    /// A failed write (stderr closed) loses only what could not be written; spoold goes on.
    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }
}

/// `2026-11-22T12:00:05.123Z notice <text>\n`. The date and time to the second are formatted once per
/// second, not once per line.
struct LineFormatter {
    private var second = Int.min
    private var secondText: [UInt8] = []

    mutating func append(_ line: StderrWriter.Line, to bytes: inout [UInt8]) {
        if line.seconds != second {
            second = line.seconds
            secondText = Self.format(second: line.seconds)
        }
        bytes += secondText
        bytes.append(UInt8(ascii: "."))
        Self.appendDigits(line.milliseconds, width: 3, to: &bytes)
        bytes += "Z ".utf8
        bytes += line.level.rawValue.utf8
        bytes.append(UInt8(ascii: " "))
        bytes += line.text.utf8
        bytes.append(UInt8(ascii: "\n"))
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
