#if canImport(Glibc)
import Glibc
#endif
import Logging

/// One line per event on stderr: `2026-11-22T12:00:05.123Z notice [call-001.call] …`. UTC, because
/// call-file records and mtimes are epoch times and administrators compare them across hosts.
/// The time is taken when the event is logged; formatting and writing happen on `StderrWriter`'s thread.
struct StderrLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    init(level: Logger.Level) { self.logLevel = level }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var text = event.message.description
        if !metadata.isEmpty || !(event.metadata?.isEmpty ?? true) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            text += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        StderrWriter.shared.write(StderrWriter.Line(
            seconds: now.tv_sec, milliseconds: now.tv_nsec / 1_000_000, level: event.level, text: text))
    }

    /// Returns once every line logged so far is on stderr (before writing to stderr directly).
    static func flush() { StderrWriter.shared.flush() }
}
