import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real `spoold run` child process on a temporary spool. Its stderr goes to a log file in the spool
/// root (not a pipe), so no descriptor leaks between concurrently started children and the log survives
/// a SIGKILL for inspection.
final class SpooldProcess: @unchecked Sendable {
    // @unchecked: `Process` is not Sendable; each instance is driven by the one test that owns it.
    let process: Process
    let logPath: String
    let arguments: [String]

    var pid: Int32 { process.processIdentifier }

    /// Starts `spoold run --spool-dir <root> <extra>` (simulate backend unless `extra` says otherwise).
    /// `wrapper` runs it under another program, e.g. `setpriv` to drop capabilities.
    init(
        spool: TemporarySpool,
        arguments extra: [String] = [],
        backend: String? = "simulate",
        logLevel: String? = "debug",
        logName: String? = nil,
        wrapper: [String] = []
    ) throws {
        var arguments = ["run", "--spool-dir", spool.root]
        // nil: no --log-level flag, so a configuration file's log_level applies.
        if let logLevel { arguments += ["--log-level", logLevel] }
        if let backend { arguments += ["--backend", backend] }
        arguments += extra
        self.arguments = arguments
        logPath = spool.root + "/" + (logName ?? "spoold-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? log.close() }

        process = Process()
        if wrapper.isEmpty {
            process.executableURL = BuiltProducts.spoold
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: wrapper[0])
            process.arguments = Array(wrapper.dropFirst()) + [BuiltProducts.spoold.path] + arguments
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// Starts spoold and waits for its `spoold ready` line.
    static func started(
        spool: TemporarySpool,
        arguments: [String] = [],
        backend: String? = "simulate",
        logLevel: String = "debug",
        wrapper: [String] = [],
        timeout: Duration = .seconds(30)
    ) async throws -> SpooldProcess {
        let spoold = try SpooldProcess(spool: spool, arguments: arguments, backend: backend, logLevel: logLevel, wrapper: wrapper)
        do {
            try await spoold.waitForLog("spoold ready", timeout: timeout)
        } catch {
            spoold.kill()
            throw error
        }
        return spoold
    }

    var log: String {
        FileSystem.read(logPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    var logLines: [Substring] { log.split(separator: "\n") }

    var isRunning: Bool { process.isRunning }

    func waitForLog(_ fragment: String, timeout: Duration = .seconds(20)) async throws {
        try await EndToEndTests.waitUntil("spoold log line containing '\(fragment)'", timeout: timeout, details: { self.tail }) {
            if self.log.contains(fragment) { return true }
            if !self.process.isRunning {
                throw SpooldExited(waitingFor: fragment, status: self.process.terminationStatus, tail: self.tail)
            }
            return false
        }
    }

    /// Waits for a log line that `matches`. Lines go out from spoold's writer thread, so the line about a
    /// file can land after the file's archive is already visible: read the log only through a wait.
    func waitForLogLine(_ what: String, timeout: Duration = .seconds(20), where matches: (Substring) -> Bool) async throws {
        try await waitUntil("a spoold log line \(what)", timeout: timeout) { self.logLines.contains(where: matches) }
    }

    /// Polls a condition on the spool; on timeout the error carries spoold's last log lines.
    func waitUntil(
        _ what: String, timeout: Duration = .seconds(20), every interval: Duration = .milliseconds(20),
        _ condition: () throws -> Bool
    ) async throws {
        try await EndToEndTests.waitUntil(what, timeout: timeout, every: interval, details: { self.tail }, condition)
    }

    var tail: String {
        "--- spoold \(arguments.joined(separator: " ")) log (last 40 lines):\n"
            + logLines.suffix(40).joined(separator: "\n")
    }

    func signal(_ number: Int32) {
        if process.isRunning { _ = Glibc.kill(pid, number) }
    }

    /// SIGKILL, the crash case; waits until the process is gone.
    func kill() {
        signal(SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait for the exit; returns the exit status (a signal number shows as 128+n).
    @discardableResult
    func terminate(timeout: Duration = .seconds(15)) async throws -> Int32 {
        signal(SIGTERM)
        try await waitForExit(timeout: timeout)
        return exitCode
    }

    func waitForExit(timeout: Duration = .seconds(15)) async throws {
        try await waitUntil("spoold to exit", timeout: timeout) { !self.process.isRunning }
        process.waitUntilExit()
    }

    var exitCode: Int32 {
        process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    deinit {
        if process.isRunning {
            _ = Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// spoold ended while a test still waited for one of its log lines.
struct SpooldExited: Error, CustomStringConvertible {
    let waitingFor: String
    let status: Int32
    let tail: String
    var description: String { "spoold exited (status \(status)) before logging '\(waitingFor)'\n\(tail)" }
}

/// Runs `body` with a started spoold and always stops it afterwards, so a failing test leaves no child.
func withSpoold<T>(
    spool: TemporarySpool,
    arguments: [String] = [],
    backend: String? = "simulate",
    logLevel: String = "debug",
    wrapper: [String] = [],
    _ body: (SpooldProcess) async throws -> T
) async throws -> T {
    let spoold = try await SpooldProcess.started(
        spool: spool, arguments: arguments, backend: backend, logLevel: logLevel, wrapper: wrapper)
    do {
        let result = try await body(spoold)
        if spoold.isRunning { try await spoold.terminate() }
        return result
    } catch {
        spoold.kill()
        throw error
    }
}
