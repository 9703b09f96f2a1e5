#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// A LogHandler writing one formatted line per event to stderr (journald and JSON formats; plain is
/// spoold's StderrLogHandler). Lines are written whole under a lock, so lines from several threads never
/// interleave.
public struct FormattedLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let formatter: LogLineFormatter
    let output: @Sendable (String) -> Void

    public init(
        formatter: LogLineFormatter, level: Logger.Level,
        output: @escaping @Sendable (String) -> Void = StandardError.write
    ) {
        self.formatter = formatter
        self.logLevel = level
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        if let error = event.error { merged["error"] = .string("\(error)") }
        output(formatter.line(level: event.level, message: event.message.description, metadata: merged))
    }
}

/// Whole lines to file descriptor 2.
public enum StandardError {
    private static let lock = Mutex(())

    @Sendable public static func write(_ line: String) {
        var bytes = Array(line.utf8)
        lock.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
                if written < 0, errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
