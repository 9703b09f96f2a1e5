import ArgumentParser
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Hostile spool contents that the end-to-end suite does not already cover, in one spoold run:
/// a directory named `x.call`, a file replaced by rename while its call is in flight, and many files with
/// the same mtime. (Symlinks, FIFOs, sockets, directories, over-size, CR/NUL, binary bytes, unreadable and
/// foreign-owned files are `EndToEndTests` `HostileInputTests` and `PermissionTests`, run by scripts/test.)
struct HostileFaults: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hostile", abstract: "A directory named x.call, a file replaced in flight, many equal mtimes.")
    @OptionGroup var options: RigOptions
    @Option(help: "Files with one shared mtime (default: 10000 full, 1000 reduced).") var sameMtime: Int?

    func run() async throws {
        try await runScenarios([("hostile input", { try await Self.scenario(options, &$0, sameMtime: sameMtime) })], options: options)
    }

    static func scenario(_ options: RigOptions, _ result: inout ScenarioResult, sameMtime: Int? = nil) async throws {
        let batchCount = sameMtime ?? (options.size == .full ? 10_000 : 1_000)
        let log = DialLog()
        let server = try await startServer(log: log)
        let spool = try TemporarySpool.forFaults(in: options.tmp, label: "hostile", keep: options.keep)
        let daemon = Daemon(binary: options.binary, spool: spool, extra: ["--max-concurrent", "100", "--max-cps", "0"])
        result.add("covered elsewhere: symlink, FIFO/socket/directory, > 1 MiB, CR/NUL, binary, unreadable (setpriv), "
                   + "foreign owner (setpriv) -> EndToEndTests HostileInputTests, PermissionTests")
        try await daemon.launch(amiPort: server.port)

        // A directory with a call-file name: skipped with a warning, never opened, never blocks the rest.
        let directory = spool.outgoing + "/x.call"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        try FileSystem.write(Array("not a call file\n".utf8), to: directory + "/inside", mode: 0o644)

        // A file replaced by rename while its call is up: the replacement is a new call and must be dialled
        // and archived with its own Status, not archived on the strength of the old file's call.
        let original = FaultCall(name: "swap.call", channel: "Local/answer/0/4000", maxRetries: 0)
        try spool.submit(original.name, bytes: original.bytes)
        try await waitUntil("swap.call to be dialled", timeout: .seconds(60), every: .milliseconds(100)) { log.byFile()["swap.call"] != nil }
        let replacementText = "Channel: Local/answer/0/0\nApplication: Wait\nData: 1\nArchive: yes\nSet: FAULTFILE=swap-replacement\n"
        try spool.submit("swap.call", bytes: Array(replacementText.utf8))
        result.add("swap.call replaced by rename while its first call was up")

        // Many files with exactly the same mtime (due now): each dialled once, none skipped or repeated.
        let batch = (0..<batchCount).map { index in
            FaultCall(name: "m-\(String(index + 100_000).dropFirst()).call", channel: "Local/answer", maxRetries: 0)
        }
        let mtime = (now() - 5).rounded(.down)
        for call in batch { try spool.submit(call.name, bytes: call.bytes, due: mtime) }
        result.add("\(batchCount) files submitted with mtime \(Int(mtime))")

        do {
            try await waitUntil("a log line naming x.call", timeout: .seconds(60), every: .milliseconds(100)) {
                daemon.allLogLines().contains { $0.contains("x.call") }
            }
            result.add("ok   x.call logged: \(daemon.allLogLines().first { $0.contains("x.call") } ?? "")")
        } catch {
            result.check(false, "x.call named in the log")
        }
        var isDirectory: ObjCBool = false
        result.check(FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && isDirectory.boolValue
                     && FileManager.default.fileExists(atPath: directory + "/inside"),
                     "x.call left alone (still a directory with its contents)")
        try FileManager.default.removeItem(atPath: directory)

        try await result.awaitDrain(spool, count: batchCount + 1, timeout: options.size == .full ? 600 : 180, daemon: daemon)
        let replacementDials = log.byFile()["swap-replacement"]?.count ?? 0
        result.check(replacementDials == 1, "the replacement swap.call was dialled once (\(replacementDials) dials)")
        let swapArchives = spool.doneNames().filter { $0.hasPrefix("swap.call") }
        let replacementArchived = swapArchives.contains { name in
            guard let bytes = spool.read(spool.done + "/" + name) else { return false }
            return bytes.starts(with: Array(replacementText.utf8))
                && ArchivedRecords(bytes).statuses == ["Completed"] && ArchivedRecords(bytes).starts.count == 1
        }
        result.check(replacementArchived, "the replacement archived Completed after its own attempt (archives: \(swapArchives.sorted()))")
        result.check(daemon.isRunning, "spoold still running")
        try await daemon.terminate()
        try await server.stop()
        // The batch: exactly once each. (swap.call is checked above; its two versions share a name.)
        let verdict = FaultVerdict.check(batch, spool: spool, log: log, othersPrefix: "swap")
        result.absorb(verdict, label: "\(batchCount) files with one mtime")
    }
}
