import Logging
import Synchronization

/// Keeps every log event of the loggers it makes, for assertions on what an administrator would read.
public final class LogCapture: Sendable {
    public struct Record: Sendable, Equatable {
        public var level: Logger.Level
        public var message: String
    }

    private let storage = Mutex<[Record]>([])

    public init() {}

    /// A logger at `.trace` whose events land here.
    public var logger: Logger {
        Logger(label: "test") { _ in Handler(capture: self) }
    }

    public var records: [Record] { storage.withLock { $0 } }

    /// `"<level>: <message>"`, one per event, in order.
    public var messages: [String] { records.map { "\($0.level): \($0.message)" } }

    /// Whether one message holds every fragment.
    public func contains(_ fragments: String...) -> Bool {
        messages.contains { message in fragments.allSatisfy { message.contains($0) } }
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.storage.withLock { $0.append(Record(level: event.level, message: event.message.description)) }
        }
    }
}
