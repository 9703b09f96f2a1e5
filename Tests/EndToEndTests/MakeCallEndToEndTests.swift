import CallFile
import Foundation
import TestSupport
import Testing

/// Runs the built `mkcall` and `spoold check` binaries on temporary spools.
@Suite struct MakeCallEndToEndTests {
    @Test func printedFileIsAcceptedByCheck() throws {
        let printed = try Binary.run("mkcall", ["--print", "--channel", "Local/s@answer", "--app", "Playback", "--data", "demo-congrats"])
        #expect(printed.status == 0)
        let directory = try TemporaryDirectory()
        let path = directory.path + "/demo.call"
        try Data(printed.output.utf8).write(to: URL(fileURLWithPath: path))
        let check = try Binary.run("spoold", ["check", path])
        #expect(check.status == 0, "\(check.output)\(check.error)")
        #expect(!check.output.contains("warning"))
        #expect(check.output.contains("application mode, Local/s@answer -> Playback(demo-congrats)"))
    }

    @Test func spoolGetsExactlyOneNewFileAndNoTemporary() throws {
        let spool = try TemporaryDirectory(withOutgoing: true)
        let result = try Binary.run("mkcall", ["--spool-dir", spool.path, "--channel", "Local/s@t", "--exten", "s", "--set", "A=1"])
        #expect(result.status == 0, "\(result.error)")
        let outgoing = try FileManager.default.contentsOfDirectory(atPath: spool.path + "/outgoing")
        #expect(outgoing.count == 1)
        #expect(result.output == "\(spool.path)/outgoing/\(outgoing.first ?? "")\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool.path) == ["outgoing"])
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: spool.path + "/outgoing/" + (outgoing.first ?? ""))))
        let parsed = CallFileParser.parse(bytes, path: "x")
        #expect(parsed.isRunnable)
        #expect(parsed.file.variables == [Variable(name: "A", value: "1")])
    }

    @Test func inFiveMinutesSetsTheMtime() throws {
        let spool = try TemporaryDirectory(withOutgoing: true)
        let before = Date().timeIntervalSince1970
        let result = try Binary.run("mkcall", ["--spool-dir", spool.path, "--name", "later.call", "--in", "5m", "--channel", "Local/s@t", "--app", "Echo"])
        let after = Date().timeIntervalSince1970
        #expect(result.status == 0, "\(result.error)")
        let attributes = try FileManager.default.attributesOfItem(atPath: spool.path + "/outgoing/later.call")
        let mtime = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        #expect(mtime >= before.rounded(.down) + 300 - 1 && mtime <= after + 300 + 1)
    }

    @Test func atAndModeAreApplied() throws {
        let spool = try TemporaryDirectory(withOutgoing: true)
        let result = try Binary.run("mkcall", [
            "--spool-dir", spool.path, "--name", "at.call", "--at", "2030-01-02T03:04:05+01:00", "--mode", "0600",
            "--channel", "Local/s@t", "--app", "Echo",
        ])
        #expect(result.status == 0, "\(result.error)")
        let attributes = try FileManager.default.attributesOfItem(atPath: spool.path + "/outgoing/at.call")
        #expect((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 == 1_893_549_845)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func errorsExitOneNameTheFlagAndLeaveNothing() throws {
        let spool = try TemporaryDirectory(withOutgoing: true)
        let refused = try Binary.run("mkcall", ["--spool-dir", spool.path, "--channel", "Local/s@t", "--app", "Echo", "--data", "a #b"])
        #expect(refused.status == 1)
        #expect(refused.error.contains("--data"))
        let first = try Binary.run("mkcall", ["--spool-dir", spool.path, "--name", "x.call", "--channel", "Local/s@t", "--app", "Echo"])
        #expect(first.status == 0)
        let clash = try Binary.run("mkcall", ["--spool-dir", spool.path, "--name", "x.call", "--channel", "Local/s@t", "--app", "Other"])
        #expect(clash.status == 1)
        #expect(clash.error.contains("--name"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool.path) == ["outgoing"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool.path + "/outgoing") == ["x.call"])
        let usage = try Binary.run("mkcall", ["--channel", "Local/s@t", "--app", "Echo", "--no-such-flag"])
        #expect(usage.status == 1)
        #expect(usage.error.contains("--no-such-flag"))
    }

    @Test func checkRefusesSymlinksFifosAndHugeFilesWithoutBlocking() throws {
        let directory = try TemporaryDirectory()
        let good = directory.path + "/good.call"
        try Data("Channel: Local/s@t\nApplication: Echo\n".utf8).write(to: URL(fileURLWithPath: good))
        try FileManager.default.createSymbolicLink(atPath: directory.path + "/link.call", withDestinationPath: good)
        #expect(mkfifo(directory.path + "/fifo.call", 0o600) == 0)
        try Data(repeating: UInt8(ascii: "x"), count: (1 << 20) + 1).write(to: URL(fileURLWithPath: directory.path + "/huge.call"))
        for (name, reason) in [("link.call", "symlink"), ("fifo.call", "FIFO"), ("huge.call", "over 1 MiB")] {
            let result = try Binary.run("spoold", ["check", directory.path + "/" + name])
            #expect(result.status == 1, "\(name)")
            #expect(result.output.contains(reason), "\(name): \(result.output)")
        }
        #expect(try Binary.run("spoold", ["check", good]).status == 0)
    }

    @Test func checkExitStatuses() throws {
        let directory = try TemporaryDirectory()
        let invalid = directory.path + "/invalid.call"
        try Data("Channel: Local/s@t\n".utf8).write(to: URL(fileURLWithPath: invalid))
        #expect(try Binary.run("spoold", ["check", invalid]).status == 1)
        #expect(try Binary.run("spoold", ["check"]).status == 2)
        #expect(try Binary.run("spoold", ["check", "--frobnicate", invalid]).status == 2)
        let json = try Binary.run("spoold", ["check", "--json", invalid, directory.path + "/missing.call"])
        #expect(json.status == 1)
        let lines = json.output.split(separator: "\n")
        #expect(lines.count == 2)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["valid"] as? Bool == false)
        }
    }
}

/// Locates the executables built beside the test bundle and runs them with a deadline.
private enum Binary {
    struct Result {
        var status: Int32
        var output: String
        var error: String
    }

    static func directory() -> URL {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("mkcall").path) }
            ?? candidates[0]
    }

    static func run(_ name: String, _ arguments: [String], deadline: TimeInterval = 30) throws -> Result {
        let process = Process()
        process.executableURL = directory().appendingPathComponent(name)
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        // Read both pipes to the end (the process exits once they are drained), then reap it.
        let group = DispatchGroup()
        nonisolated(unsafe) var outputData = Data()
        nonisolated(unsafe) var errorData = Data()
        DispatchQueue.global().async(group: group) { outputData = output.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { errorData = error.fileHandleForReading.readDataToEndOfFile() }
        if group.wait(timeout: .now() + deadline * TestTimeScale.factor) == .timedOut {
            process.terminate()
            throw Timeout(command: "\(name) \(arguments.joined(separator: " "))")
        }
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            output: String(decoding: outputData, as: UTF8.self),
            error: String(decoding: errorData, as: UTF8.self))
    }

    struct Timeout: Error, CustomStringConvertible {
        var command: String
        var description: String { "\(command) did not finish in time" }
    }
}

/// A directory under /tmp removed when the test ends.
private final class TemporaryDirectory {
    let path: String

    init(withOutgoing: Bool = false) throws {
        path = NSTemporaryDirectory() + "mkcall-e2e-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path + (withOutgoing ? "/outgoing" : ""), withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
