import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Counts archives as they appear in `outgoing_done/` from inotify's `IN_MOVED_TO` events, on its own
/// thread, and notes the moment the expected count is reached.
///
/// Why not poll the directory: listing a directory of 20,000+ entries every few milliseconds costs the
/// benchmark about as much CPU as spoold spends archiving, on the same two cores, and it lowers the very
/// figure it measures. One event per rename costs next to nothing and timestamps the last archive exactly.
/// Dotted names (spoold's staging names) are not archives and are not counted. Should the kernel queue
/// overflow, the counter falls back to listing the directory, less often.
final class ArchiveCounter: @unchecked Sendable {
    // @unchecked: `state` is only touched under `lock`; `fd` is set once.
    private let directory: String
    private let fd: Int32
    private let lock = NSLock()
    private var state: State

    private struct State {
        var count = 0
        var target: Int
        var reachedAt: Date?
        var running = true
        var finished = false
    }

    /// Starts watching `directory` (which must exist) for `expected` archives, before anything is renamed in.
    init(directory: String, expected: Int) throws {
        self.directory = directory
        state = State(target: expected)
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { throw BenchError.system("inotify_init1", errno) }
        guard inotify_add_watch(fd, directory, UInt32(IN_MOVED_TO)) >= 0 else {
            let code = errno
            close(fd)
            throw BenchError.system("inotify_add_watch \(directory)", code)
        }
        Thread { [self] in readEvents() }.start()
    }

    /// Waits until the expected archives exist; returns when the last one appeared.
    func wait(timeout: Double) async throws -> Date {
        let count = lock.withLock { state.target }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let reached = lock.withLock({ state.count >= count ? (state.reachedAt ?? Date()) : nil }) {
                return reached
            }
            guard Date() < deadline else {
                throw BenchError.timeout("\(count) files archived, have \(lock.withLock { state.count })")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func stop() {
        lock.withLock { state.running = false }
        while !lock.withLock({ state.finished }) { usleep(1_000) }
        close(fd)
    }

    private func readEvents() {
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        var overflowed = false
        while lock.withLock({ state.running }) {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&poller, 1, overflowed ? 20 : 100)
            if overflowed {
                let listed = archivedByListing()
                record(total: listed)
                continue
            }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { continue }
            var added = 0
            buffer.withUnsafeBytes { raw in
                var offset = 0
                while offset + MemoryLayout<inotify_event>.size <= n {
                    let mask = raw.load(fromByteOffset: offset + 4, as: UInt32.self)
                    let length = Int(raw.load(fromByteOffset: offset + 12, as: UInt32.self))
                    let nameStart = offset + MemoryLayout<inotify_event>.size
                    if mask & UInt32(IN_Q_OVERFLOW) != 0 { overflowed = true }
                    if mask & UInt32(IN_MOVED_TO) != 0, length > 0, raw[nameStart] != UInt8(ascii: ".") { added += 1 }
                    offset = nameStart + length
                }
            }
            if overflowed {
                record(total: archivedByListing())
            } else if added > 0 {
                record(added: added)
            }
        }
        lock.withLock { state.finished = true }
    }

    private func record(added: Int = 0, total: Int? = nil) {
        let now = Date()
        lock.withLock {
            let before = state.count
            state.count = total ?? (state.count + added)
            if before < state.target, state.count >= state.target { state.reachedAt = now }
        }
    }

    private func archivedByListing() -> Int {
        guard let listing = opendir(directory) else { return 0 }
        defer { closedir(listing) }
        var count = 0
        while let entry = readdir(listing) {
            if entry.pointee.d_name.0 != UInt8(ascii: ".") { count += 1 }
        }
        return count
    }
}
