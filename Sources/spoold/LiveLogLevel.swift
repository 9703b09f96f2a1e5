import Logging
import Synchronization

/// The log level, changeable while spoold runs (a reload): every logger consults it on each message.
final class LiveLogLevel: Sendable {
    private static let levels = Logger.Level.allCases
    private let index: Atomic<Int>

    init(_ level: Logger.Level) {
        index = Atomic(Self.levels.firstIndex(of: level) ?? 0)
    }

    var level: Logger.Level {
        get { Self.levels[index.load(ordering: .relaxed)] }
        set { index.store(Self.levels.firstIndex(of: newValue) ?? 0, ordering: .relaxed) }
    }
}

/// Wraps any log handler so that its level is the live one, whatever handler (stderr, journald, JSON)
/// does the writing.
struct LiveLevelLogHandler<Inner: LogHandler>: LogHandler {
    var inner: Inner
    let live: LiveLogLevel
    /// Set only on a logger copy made to print one line whatever the level (the `spoold ready` line):
    /// the copy's handler is a copy of this struct, so the live level of every other logger is untouched.
    var pinned: Logger.Level?

    init(_ inner: Inner, level: LiveLogLevel) {
        self.inner = inner
        self.live = level
    }

    var logLevel: Logger.Level {
        get { pinned ?? live.level }
        set { pinned = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        inner.log(event: event)
    }
}
