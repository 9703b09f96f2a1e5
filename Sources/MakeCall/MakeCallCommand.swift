import ArgumentParser
import BuildInfo
#if canImport(Glibc)
import Glibc
#endif

/// `mkcall`: build a call file from flags and put it into the spool safely.
public struct MakeCallCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mkcall",
        abstract: "Writes an Asterisk call file safely into the spool.",
        discussion: """
            Values that Asterisk would cut or misread are refused with an error naming the flag. The file is \
            written and synced outside outgoing/, then renamed into it under a unique name, so neither \
            Asterisk nor spoold ever reads it half-written. Prints the path it created.
            """,
        version: BuildInfo.versionLine(command: "mkcall"))

    @OptionGroup(title: "Call")
    public var call: CallOptions

    @OptionGroup(title: "Spool and schedule")
    public var spool: SpoolOptions

    public init() {}

    public func run() throws {
        let bytes = try call.callFileBytes()
        if spool.print {
            try writeToStandardOutput(bytes)
            return
        }
        let now = Int64(time(nil))
        var random = SystemRandomNumberGenerator()
        let request = SpoolWriter.Request(
            contents: bytes,
            spoolDirectory: spool.effectiveSpoolDirectory,
            name: spool.name ?? SpoolWriter.defaultName(now: now, pid: getpid(), random: UInt32.random(in: 0...UInt32.max, using: &random)),
            owner: try spool.resolvedOwner(),
            mode: try spool.resolvedMode(),
            dueTime: try spool.dueTime(now: now))
        print(try SpoolWriter.write(request))
    }

    private func writeToStandardOutput(_ bytes: [UInt8]) throws(MakeCallError) {
        guard FileDescriptorOutput.writeAll(STDOUT_FILENO, bytes) else {
            throw MakeCallError(flag: "--print", reason: "cannot write to standard output")
        }
    }

    /// Runs as a program: help goes to standard output with status 0; every error, a usage error included,
    /// goes to standard error with status 1.
    public static func runAsMain(_ arguments: [String]? = nil) -> Never {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            Self.exit()
        } catch {
            if exitCode(for: error) == .success { Self.exit(withError: error) }
            let message = fullMessage(for: error)
            _ = FileDescriptorOutput.writeAll(STDERR_FILENO, Array("mkcall: \(message)\n".utf8))
            Glibc.exit(1)
        }
    }
}
