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
