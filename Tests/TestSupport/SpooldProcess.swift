import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real `spoold run` child process on a spool: the one way the end-to-end tests and the fault tool
/// (`spoold-faults`) run the built daemon. Its stderr goes to a log file (not a pipe), so no descriptor
/// leaks between concurrently started children and the log survives a SIGKILL for inspection.
public final class SpooldProcess: @unchecked Sendable {
    // @unchecked: `Process` is not Sendable; each instance is driven by the one test that owns it.
    public let process: Process
    public let logPath: String
    public let arguments: [String]

    public var pid: Int32 { process.processIdentifier }

    /// Starts `spoold run --spool-dir <root> <extra>` (simulate backend unless `backend` says otherwise).
    /// `wrapper` runs it under another program, e.g. `setpriv` to drop capabilities. The log goes to
    /// `logPath`, by default a new file in the spool root.
    public init(
        spool: TemporarySpool,
        arguments extra: [String] = [],
        backend: String? = "simulate",
        logLevel: String? = "debug",
        logName: String? = nil,
        logPath: String? = nil,
        wrapper: [String] = [],
        executable: URL = BuiltProducts.spoold
    ) throws {
        var arguments = ["run", "--spool-dir", spool.root]
        // nil: no --log-level flag, so a configuration file's log_level applies.
        if let logLevel { arguments += ["--log-level", logLevel] }
        if let backend { arguments += ["--backend", backend] }
        arguments += extra
        self.arguments = arguments
        self.logPath = logPath ?? spool.root + "/" + (logName ?? "spoold-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: self.logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: self.logPath))
        defer { try? log.close() }

        process = Process()
        if wrapper.isEmpty {
            process.executableURL = executable
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: wrapper[0])
            process.arguments = Array(wrapper.dropFirst()) + [executable.path] + arguments
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// Starts spoold and waits for its `spoold ready` line.
    public static func started(
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

    public var log: String {
        FileSystem.read(logPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    public var logLines: [Substring] { log.split(separator: "\n") }

    public var isRunning: Bool { process.isRunning }

    public func waitForLog(_ fragment: String, timeout: Duration = .seconds(20)) async throws {
        try await TestSupport.waitUntil("spoold log line containing '\(fragment)'", timeout: timeout, details: { self.tail }) {
            if self.log.contains(fragment) { return true }
            if !self.process.isRunning {
                throw SpooldExited(waitingFor: fragment, status: self.process.terminationStatus, tail: self.tail)
            }
            return false
        }
    }

    /// Waits for a log line that `matches`. Lines go out from spoold's writer thread, so the line about a
    /// file can land after the file's archive is already visible: read the log only through a wait.
    public func waitForLogLine(_ what: String, timeout: Duration = .seconds(20), where matches: (Substring) -> Bool) async throws {
        try await waitUntil("a spoold log line \(what)", timeout: timeout) { self.logLines.contains(where: matches) }
    }

    /// Polls a condition on the spool; on timeout the error carries spoold's last log lines.
    public func waitUntil(
        _ what: String, timeout: Duration = .seconds(20), every interval: Duration = .milliseconds(20),
        _ condition: () throws -> Bool
    ) async throws {
        try await TestSupport.waitUntil(what, timeout: timeout, every: interval, details: { self.tail }, condition)
    }

    public var tail: String {
        "--- spoold \(arguments.joined(separator: " ")) log (last 40 lines):\n"
            + logLines.suffix(40).joined(separator: "\n")
    }

    public func signal(_ number: Int32) {
        if process.isRunning { _ = Glibc.kill(pid, number) }
    }

    /// SIGKILL, the crash case; waits until the process is gone.
    public func kill() {
        signal(SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait for the exit; returns the exit status (a signal number shows as 128+n).
    @discardableResult
    public func terminate(timeout: Duration = .seconds(15)) async throws -> Int32 {
        signal(SIGTERM)
        try await waitForExit(timeout: timeout)
        return exitCode
    }

    public func waitForExit(timeout: Duration = .seconds(15)) async throws {
        try await waitUntil("spoold to exit", timeout: timeout) { !self.process.isRunning }
        process.waitUntilExit()
    }

    public var exitCode: Int32 {
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
public struct SpooldExited: Error, CustomStringConvertible {
    public let waitingFor: String
    public let status: Int32
    public let tail: String
    public var description: String { "spoold exited (status \(status)) before logging '\(waitingFor)'\n\(tail)" }
}

/// Runs `body` with a started spoold and always stops it afterwards, so a failing test leaves no child.
public func withSpoold<T>(
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
