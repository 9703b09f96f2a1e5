import Logging

/// The LogHandler for every format (plain, journald, JSON): it takes the time and merges the metadata
/// when the event is logged, and hands the record to the process's one `LogWriter`, whose thread makes the
/// line and writes it. So no format writes on the logging thread, and lines from several threads never
/// interleave.
public struct FormattedLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public let format: LogFormat
    let writer: LogWriter

    public init(format: LogFormat, level: Logger.Level, writer: LogWriter = .standardError) {
        self.format = format
        self.logLevel = level
        self.writer = writer
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let time = LogTime.now()
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        if let error = event.error { merged["error"] = .string("\(error)") }
        writer.write(LogRecord(format: format, time: time, level: event.level, message: event.message.description,
                               metadata: merged))
    }
}
