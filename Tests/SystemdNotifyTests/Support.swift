import Logging
import Synchronization

final class ProbeCounter: Sendable {
    private let value = Mutex(0)
    func increment() { value.withLock { $0 += 1 } }
    var count: Int { value.withLock { $0 } }
}

final class LogRecords: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
    }
    private let records = Mutex<[Record]>([])
    func append(_ record: Record) { records.withLock { $0.append(record) } }
    var all: [Record] { records.withLock { $0 } }
}

struct RecordingLogHandler: LogHandler {
    let records: LogRecords
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        records.append(.init(level: event.level, message: event.message.description))
    }
}

struct ConditionTimeout: Error {}

/// Polls a condition until it holds, for up to 30 s.
func waitUntil(_ condition: () -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .seconds(30))
    while !condition() {
        guard clock.now < deadline else { throw ConditionTimeout() }
        try await Task.sleep(for: .milliseconds(10))
    }
}
