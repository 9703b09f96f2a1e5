import Foundation
import TestSupport

/// A short-lived command (mkcall, a second spoold) run to completion with its output captured.
struct ToolRun: CustomStringConvertible {
    let status: Int32
    let stdout: String
    let stderr: String

    var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }

    static func run(_ executable: URL, _ arguments: [String], timeout: Duration = .seconds(30)) async throws -> ToolRun {
        // Output goes to temporary files, not pipes: nothing can block on a full pipe.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-tool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("stdout")
        let errURL = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
        try? out.close()
        try? err.close()
        do {
            try await waitUntil("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) to exit",
                                timeout: timeout) { !process.isRunning }
        } catch {
            process.terminate()
            throw error
        }
        process.waitUntilExit()
        return ToolRun(
            status: process.terminationStatus,
            stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        )
    }

    /// Runs mkcall and returns the path it printed.
    static func mkcall(_ arguments: [String]) async throws -> (run: ToolRun, path: String) {
        let run = try await run(BuiltProducts.mkcall, arguments)
        let path = run.stdout.split(separator: "\n").last.map(String.init) ?? ""
        return (run, path.trimmingCharacters(in: .whitespaces))
    }
}
