import Foundation
import Testing
import TestSupport

/// The fault suite at its reduced (CI) size: each scenario runs the real `spoold-faults` executable, which
/// drives the real `spoold` and exits non-zero when a check fails. `scripts/fault-suite` runs the full size.
/// Serialized: every scenario loads both cores on its own.
@Suite(.serialized)
struct ReducedFaultSuiteTests {
    @Test("Fault scenario at reduced size", arguments: ["kill", "ami-restart", "disk-full", "hostile", "burst"])
    func scenario(_ name: String) async throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("spoold-faults-\(name)-\(getpid()).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        let process = Process()
        // Beside spoold in the build directory, found from the running test binary.
        process.executableURL = BuiltProducts.directory.appendingPathComponent("spoold-faults")
        process.arguments = [name, "--size", "reduced"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try handle.close()
        // Each scenario bounds its own waits and reports a hang as a failure; this is only a backstop.
        let deadline = ContinuousClock.now + .seconds(900)
        while process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        if process.isRunning {
            process.terminate()
        }
        process.waitUntilExit()
        let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        print(log)
        #expect(process.terminationReason == .exit && process.terminationStatus == 0,
                "spoold-faults \(name) failed (status \(process.terminationStatus)):\n\(log)")
    }
}
