import Foundation
import TestSupport

/// Watches one queued call file from its own thread (not the shared test executor, which other tests can
/// keep busy) and keeps, for each state of the file (the record tags so far), the last mtime seen in it.
final class StateSampler: @unchecked Sendable {
    // @unchecked: `seen` and `running` are only touched under `lock`.
    private let path: String
    private let lock = NSLock()
    private var seen: [[String]: Double] = [:]
    private var running = true

    init(path: String) { self.path = path }

    func start() {
        Thread { [self] in
            while lock.withLock({ running }) {
                // Only a sample whose mtime did not change while the bytes were read is consistent.
                if let before = FileSystem.mtime(path), let bytes = FileSystem.read(path),
                   let after = FileSystem.mtime(path), before == after {
                    let tags = ArchivedCallFile(bytes: bytes).tags
                    lock.withLock { seen[tags] = after }
                }
                usleep(5_000)
            }
        }.start()
    }

    /// Stops sampling and returns the last mtime seen in each state.
    func stop() -> [[String]: Double] {
        lock.withLock {
            running = false
            return seen
        }
    }
}
