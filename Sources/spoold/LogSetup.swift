import ArgumentParser
import LogFormats
import Logging

extension LogFormat: ExpressibleByArgument {}

extension LogFormat {
    /// The handler for this format behind the level a SIGHUP reload can change.
    func makeHandler(level: LiveLogLevel) -> any LogHandler {
        switch self {
        case .plain: return LiveLevelLogHandler(StderrLogHandler(level: .trace), level: level)
        case .journald: return LiveLevelLogHandler(FormattedLogHandler(formatter: .journald, level: .trace), level: level)
        case .json: return LiveLevelLogHandler(FormattedLogHandler(formatter: .json, level: .trace), level: level)
        }
    }
}
