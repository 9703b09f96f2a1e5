import ArgumentParser
import LogFormats
import Logging

extension LogFormat: ExpressibleByArgument {}

extension LogFormat {
    /// The handler for this format: plain is the classic stderr line, the others go through LogFormats.
    func makeHandler(level: Logger.Level) -> any LogHandler {
        switch self {
        case .plain: return StderrLogHandler(level: level)
        case .journald: return FormattedLogHandler(formatter: .journald, level: level)
        case .json: return FormattedLogHandler(formatter: .json, level: level)
        }
    }
}

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
