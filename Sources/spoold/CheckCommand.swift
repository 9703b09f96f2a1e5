import ArgumentParser
import CallFile
#if canImport(Glibc)
import Glibc
#endif

/// `spoold check`: reads call files exactly as Asterisk would and reports every silent surprise.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Reads call files exactly as Asterisk would and reports every silent surprise.",
        discussion: """
            Prints PATH:LINE: warning|error: MESSAGE for each finding, then one line per file saying how it \
            would run. Exits 0 when every file is valid, 1 when any is invalid or unreadable, 2 on a usage error. \
            Symlinks, FIFOs and other non-regular files, and files over 1 MiB, are refused without being opened.
            """)

    @Flag(help: "Print one JSON object per file (one per line) instead of text.")
    var json = false

    // Collected leniently so that an unknown option is a usage error with status 2, not ArgumentParser's 64.
    @Argument(parsing: .allUnrecognized, help: "Call files to check.")
    var files: [String] = []

    func validate() throws {
        if let option = files.first(where: { $0.hasPrefix("-") && $0 != "-" }) {
            throw Self.usageError("unknown option '\(option)' (a file whose name starts with '-' can be given as ./\(option))")
        }
        if files.isEmpty {
            throw Self.usageError("give at least one call file")
        }
    }

    func run() async throws {
        var allValid = true
        for path in files {
            let report = CheckReport(path: path, outcome: Self.load(path))
            allValid = allValid && report.isValid
            if json {
                print(report.jsonLine)
            } else {
                report.textLines.forEach { print($0) }
            }
        }
        if !allValid { throw ExitCode.failure }
    }

    private static func usageError(_ message: String) -> ExitCode {
        let text = "spoold check: error: \(message)\nUsage: spoold check [--json] FILE...\n"
        _ = Array(text.utf8).withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        return ExitCode(2)
    }

    static let maximumSize = 1 << 20

    /// Reads a call file without following a symlink or blocking on a FIFO: lstat first, refuse anything
    /// but a regular file, then open with O_NOFOLLOW|O_NONBLOCK and make sure it is still the same file.
    static func load(_ path: String) -> CheckReport.Outcome {
        var before = stat()
        guard lstat(path, &before) == 0 else { return .unreadable(reason: "cannot stat: \(lastError())") }
        switch before.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFLNK: return .unreadable(reason: "is a symlink; spoold never follows symlinks")
        case S_IFDIR: return .unreadable(reason: "is a directory, not a call file")
        case S_IFIFO: return .unreadable(reason: "is a FIFO, not a regular file")
        case S_IFSOCK: return .unreadable(reason: "is a socket, not a regular file")
        default: return .unreadable(reason: "is a device, not a regular file")
        }
        guard before.st_size <= maximumSize else {
            return .unreadable(reason: "is \(before.st_size) bytes; call files over 1 MiB are refused")
        }
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return .unreadable(reason: "cannot open: \(lastError())") }
        defer { close(fd) }
        var after = stat()
        guard fstat(fd, &after) == 0, after.st_mode & S_IFMT == S_IFREG,
            after.st_ino == before.st_ino, after.st_dev == before.st_dev
        else { return .unreadable(reason: "changed while being opened") }
        var bytes = [UInt8](repeating: 0, count: maximumSize + 1)
        var count = 0
        while count < bytes.count {
            let got = bytes[count...].withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                return .unreadable(reason: "cannot read: \(lastError())")
            }
            if got == 0 { break }
            count += got
        }
        guard count <= maximumSize else { return .unreadable(reason: "grew over 1 MiB while being read") }
        bytes.removeSubrange(count...)
        return .parsed(CallFileParser.parse(bytes, path: path), mtime: Int64(after.st_mtim.tv_sec))
    }

    private static func lastError() -> String {
        let code = errno
        return "\(String(cString: strerror(code))) (errno \(code))"
    }
}
