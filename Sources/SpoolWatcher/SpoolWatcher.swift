import Logging

/// Where the inotify thread hands a subscription's batches: a stream's continuation, or a function.
struct WatchOutput: Sendable {
    let deliver: @Sendable ([SpoolChange]) -> Void
    /// The watch was abandoned (inotify could not be set up): nothing more will come.
    let finish: @Sendable () -> Void
    /// Given the dot names of the first listing, just before that listing is delivered (nil: not wanted).
    var dotNamesAtStart: (@Sendable ([String]) -> Void)? = nil

    func yield(_ batch: [SpoolChange]) { deliver(batch) }
}

/// The changes in one spool directory, as an async sequence of batches.
///
/// Iterating starts the watch: the first batch holds `.rescan(names, reason: .initial)`. Iteration
/// ends when the consuming task is cancelled, which also releases the watch. Each iterator is an
/// independent watch; several may exist in one process.
///
/// The watcher never opens a file in the directory: it reads names from inotify events and from
/// readdir only, so a FIFO or a symlink in the spool cannot block or redirect it.
public struct SpoolWatcher: AsyncSequence, Sendable {
    /// Changes in the order they happened, at most 4096 per batch.
    public typealias Element = [SpoolChange]

    public enum Mode: Sendable {
        /// Kernel notifications through libinotifytools.
        case inotify
        /// For spools on NFS, where inotify sees nothing: a listing whenever the directory's mtime
        /// changes, and at least every `interval`.
        case polling(interval: Duration)
    }

    public let directory: String
    public let mode: Mode
    private let logger: Logger

    public init(directory: String, mode: Mode = .inotify, logger: Logger = Logger(label: "spoold.watcher")) {
        self.directory = directory
        self.mode = mode
        self.logger = logger
    }

    public func makeAsyncIterator() -> AsyncIterator {
        let path = SpoolPath.absolute(directory)
        switch mode {
        case .inotify:
            let (stream, output) = AsyncStream.makeStream(of: Element.self)
            let hub = InotifyHub.shared
            let id = hub.subscribe(directory: path, logger: logger,
                                   output: WatchOutput(deliver: { output.yield($0) }, finish: { output.finish() }))
            output.onTermination = { _ in hub.unsubscribe(id) }
            return AsyncIterator(source: .inotify(stream.makeAsyncIterator()))
        case .polling(let interval):
            return AsyncIterator(source: .polling(PollingIterator(
                directory: path, schedule: PollSchedule(interval: interval), logger: logger)))
        }
    }

    /// Hands each batch to `deliver` until the calling task is cancelled, in the sequence's order. In inotify
    /// mode `deliver` runs on the watcher's own thread (no task hop per batch: each costs thread wake-ups)
    /// and must not block; it returns early, as the sequence ends, when inotify cannot be set up.
    ///
    /// `dotNamesAtStart` (inotify mode only; never called when polling): the names starting with `.` that the
    /// first listing saw (and leaves out, as every batch does), handed over on the watcher's thread just before
    /// that listing is delivered, so that a reader who needs them at start-up does not list the directory again.
    /// Not called when the first listing fails.
    public func run(dotNamesAtStart: (@Sendable ([String]) -> Void)? = nil, deliver: @escaping @Sendable (Element) -> Void) async {
        switch mode {
        case .inotify:
            // Never yields: it ends when the watch is abandoned, or at cancellation, which unsubscribes.
            let (ended, end) = AsyncStream.makeStream(of: Never.self)
            let hub = InotifyHub.shared
            let id = hub.subscribe(directory: SpoolPath.absolute(directory), logger: logger,
                                   output: WatchOutput(deliver: deliver, finish: { end.finish() }, dotNamesAtStart: dotNamesAtStart))
            end.onTermination = { _ in hub.unsubscribe(id) }
            for await _ in ended {}
        case .polling:
            for await batch in self { deliver(batch) }
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        enum Source {
            case inotify(AsyncStream<Element>.Iterator)
            case polling(PollingIterator)
        }

        var source: Source

        public mutating func next() async -> Element? {
            switch source {
            case .inotify(var iterator):
                let batch = await iterator.next()
                source = .inotify(iterator)
                return batch
            case .polling(var iterator):
                let batch = await iterator.next()
                source = .polling(iterator)
                return batch
            }
        }
    }
}
