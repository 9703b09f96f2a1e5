import ArgumentParser
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The spool on a small tmpfs that is filled up mid-run. Call files are exactly one page long, so every
/// record spoold appends (StartRetry, EndRetry, Status) needs a new block and hits ENOSPC. Nothing may be
/// lost or corrupted while the disk is full, and everything finishes once space returns.
struct DiskFullFaults: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disk-full", abstract: "Fill a tmpfs spool mid-run, then free it.")
    @OptionGroup var options: RigOptions
    @Option(help: "Call files (default: 300 full, 60 reduced).") var files: Int?
    @Option(help: "Seconds the disk stays full (default: 15 full, 5 reduced).") var fullSeconds: Double?

    func run() async throws {
        try await runScenarios([("disk full", { try await Self.scenario(options, &$0, files: files, fullSeconds: fullSeconds) })], options: options)
    }

    static let page = 4096

    static func scenario(_ options: RigOptions, _ result: inout ScenarioResult, files: Int? = nil, fullSeconds: Double? = nil) async throws {
        let fileCount = files ?? (options.size == .full ? 300 : 60)
        let holdFull = fullSeconds ?? (options.size == .full ? 15 : 5)
        let mountPoint = options.tmp + "/spoold-faults-tmpfs-\(getpid())"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: mountPoint) }
        // Room for the files, their archives and a little slack: it is the filler that makes it full.
        let sizeKiB = (fileCount * 3 * page) / 1024 + 1024
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=\(sizeKiB)k,mode=0755", "tmpfs", mountPoint]
        mount.standardError = FileHandle.nullDevice
        try mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else {
            result.skipped = "mount -t tmpfs not permitted here (needs root / CAP_SYS_ADMIN)"
            result.add("SKIP: \(result.skipped!)")
            return
        }
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = ["-l", mountPoint]
            try? umount.run()
            umount.waitUntilExit()
        }

        let log = DialLog()
        let server = try await startServer(log: log)
        // Removed with the mount (below), not by itself.
        let spool = try TemporarySpool.forFaults(root: mountPoint + "/spool", label: "disk-full", keep: true)
        let logs = options.tmp + "/spoold-faults-disk-logs-\(getpid())"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        defer { if !options.keep { try? FileManager.default.removeItem(atPath: logs) } }
        let daemon = Daemon(binary: options.binary, spool: spool, extra: ["--max-concurrent", "50", "--max-cps", "50"],
                            logDirectory: logs)
        let calls = (0..<fileCount).map { index -> FaultCall in
            let name = "d-\(String(index + 100_000).dropFirst()).call"
            return index % 2 == 0
                ? FaultCall(name: name, channel: "Local/answer/0/\(500 + index % 7 * 100)", maxRetries: 2, padTo: page)
                : FaultCall(name: name, channel: "Local/busy/200", maxRetries: 2, padTo: page)
        }
        result.add("\(fileCount) one-page files on a \(sizeKiB) KiB tmpfs, disk kept full for \(holdFull) s")
        try await daemon.launch(amiPort: server.port)
        for call in calls { try spool.submit(call.name, bytes: call.bytes) }

        // Fill every remaining block: big writes first, then single pages, until ENOSPC.
        let filler = mountPoint + "/filler"
        let fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemError("open \(filler)", errno) }
        var filled = 0
        for chunk in [1 << 20, page, 1] {
            let bytes = [UInt8](repeating: 0x2e, count: chunk)
            while bytes.withUnsafeBytes({ write(fd, $0.baseAddress, chunk) }) == chunk { filled += chunk }
        }
        close(fd)
        let filledAt = now()
        result.add("filled \(filled / 1024) KiB; \(spool.doneNames().count) archived when the disk became full")

        // While full: spoold must report the error, and every file must be whole, in outgoing/ or archived.
        var sawError = false
        while now() - filledAt < holdFull {
            sawError = sawError || daemon.allLogLines().contains { $0.contains("No space left") || $0.contains("ENOSPC") }
            try await pause(0.5)
        }
        result.check(sawError, "spoold logged the full disk (No space left on device)")
        var missing: [String] = []
        var damaged: [String] = []
        let done = Set(spool.doneNames())
        for call in calls {
            let pendingPath = spool.outgoing + "/" + call.name
            if let bytes = spool.read(pendingPath) {
                if !bytes.starts(with: call.bytes) { damaged.append(call.name) }
            } else if !done.contains(call.name), !done.contains(where: { $0.hasPrefix(".\(call.name).") }) {
                missing.append(call.name)
            }
        }
        result.check(missing.isEmpty, "while full, no file missing from outgoing/ and outgoing_done/ \(missing.prefix(5))")
        result.check(damaged.isEmpty, "while full, no file in outgoing/ lost its original contents \(damaged.prefix(5))")
        let archivedWhileFull = spool.doneNames().count

        try FileManager.default.removeItem(atPath: filler)
        result.add("space returned with \(archivedWhileFull) archived, \(spool.pendingNames().count) waiting")
        try await result.awaitDrain(spool, count: fileCount, timeout: 180, daemon: daemon)
        result.check(daemon.isRunning, "spoold still running after the full disk")
        try await daemon.terminate()
        try await server.stop()
        result.absorb(FaultVerdict.check(calls, spool: spool, log: log), label: "after the full disk")
    }
}
