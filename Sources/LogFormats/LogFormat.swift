#if canImport(Glibc)
import Glibc
#endif

/// How spoold writes its log lines to stderr.
public enum LogFormat: String, Sendable, CaseIterable {
    /// `2026-11-22T12:00:05.123Z notice message key=value`: for a terminal or a plain log file.
    case plain
    /// `<5>message key=value`: the sd-daemon priority prefix and no timestamp (journald adds its own).
    case journald
    /// One JSON object per line: time, level, message, metadata.
    case json

    /// journald when stderr is the journal stream systemd set up for this service, plain otherwise.
    public static func automatic(environment: (String) -> String? = { getenv($0).map { String(cString: $0) } }) -> LogFormat {
        JournalStream.isConnected(fd: STDERR_FILENO, journalStream: environment("JOURNAL_STREAM")) ? .journald : .plain
    }
}

/// systemd sets `$JOURNAL_STREAM=<device>:<inode>` for the stream it connected to stdout/stderr. The
/// variable is inherited by children that may have other stderrs, so it counts only when the descriptor
/// really is that stream.
public enum JournalStream {
    public static func isConnected(fd: Int32, journalStream: String?) -> Bool {
        guard let journalStream else { return false }
        let parts = journalStream.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }
}
