import ArgumentParser
import LogFormats
import Logging

extension LogFormat: ExpressibleByArgument {}

extension LogFormat {
    /// The handler for this format behind the level a SIGHUP reload can change. Every format goes
    /// through the process's one log writer (`LogWriter.standardError`), flushed at exit.
    func makeHandler(level: LiveLogLevel) -> any LogHandler {
        LiveLevelLogHandler(FormattedLogHandler(format: self, level: .trace), level: level)
    }
}
