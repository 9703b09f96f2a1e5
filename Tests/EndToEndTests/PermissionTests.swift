import Foundation
import Testing
import TestSupport

/// Contract §2.7 (unreadable files are moved aside, not deleted, and the error names owner and mode) and
/// §2.8 (a file whose records cannot be written does not retry for ever).
///
/// The tests run as root, which reads and writes everything. spoold is therefore started under `setpriv`
/// with CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER removed from its bounding set: it is still
/// uid 0, but file modes and ownership now bind it as they bind an ordinary `asterisk` user.
@Suite("Files spoold may not read or write")
struct PermissionTests {
    static let withoutOverrides = ["/usr/bin/setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner"]

    static var canDropCapabilities: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
    }

    @Test("An unreadable file is moved aside into outgoing_done, not deleted, and the log names owner and mode",
          .enabled(if: canDropCapabilities, "needs root and setpriv to take the override capabilities away"))
    func unreadableMovedAside() async throws {
        let spool = try TemporarySpool()
        let text = callFile(["Channel": "Sim/answer", "Application": "Playback", "Data": "x", "Archive": "yes"])
        try await withSpoold(spool: spool, wrapper: Self.withoutOverrides) { spoold in
            try spool.submit("secret.call", text, mode: 0)
            try await spool.waitForRemoval("secret.call", by: spoold)
            let aside = spool.doneNames().filter { $0.hasPrefix("secret.call") }
            #expect(aside.count == 1, "outgoing_done: \(spool.doneNames())")
            if let name = aside.first {
                // The test itself is root with every capability, so it can check that no byte was lost.
                #expect(FileSystem.read(spool.donePath(name))?.starts(with: Array(text.utf8)) == true)
            }
            try await spoold.waitForLogLine("naming secret.call's mode and owner") {
                $0.contains("secret.call") && $0.contains("mode") && $0.contains("own")
            }
        }
    }

    static let busyTwice = callFile([
        "Channel": "Sim/busy", "MaxRetries": "1", "RetryTime": "1", "Application": "Playback", "Data": "x",
        "Archive": "yes",
    ])

    /// Stages `name` owned by nobody with `mode`, to be renamed into outgoing while spoold runs.
    static func stageForeign(_ spool: TemporarySpool, _ name: String, mode: mode_t) throws -> String {
        let staged = spool.staging + "/" + name
        try FileSystem.write(Array(busyTwice.utf8), to: staged)
        try FileSystem.chmod(staged, mode)
        guard chown(staged, 65534, 65534) == 0 else { throw FileSystem.Failure(call: "chown", path: staged, code: errno) }
        return staged
    }

    static func dialLines(_ spoold: SpooldProcess, _ name: String) -> [Substring] {
        spoold.logLines.filter { $0.contains("[\(name)]") && $0.contains("dialling") }
    }

    @Test("A file spoold may write but not re-time (another owner) makes MaxRetries+1 attempts, then stops, and says how to fix it",
          .enabled(if: canDropCapabilities, "needs root and setpriv to take the override capabilities away"))
    func foreignOwnerDoesNotLoop() async throws {
        let spool = try TemporarySpool()
        // Owned by nobody, mode 0666: spoold can append records but not set the mtime (EPERM, as in Asterisk).
        let staged = try Self.stageForeign(spool, "foreign.call", mode: 0o666)
        try await withSpoold(spool: spool, wrapper: Self.withoutOverrides) { spoold in
            try FileSystem.rename(staged, spool.outgoingPath("foreign.call"))
            // Asterisk never gets here: each read looks like attempt 1 and it dials every RetryTime for ever.
            try await spool.waitForRemoval("foreign.call", by: spoold, timeout: .seconds(30))
            let dials = Self.dialLines(spoold, "foreign.call")
            #expect(dials.count == 2, "dial log lines:\n\(dials.joined(separator: "\n"))")
            try await spoold.waitForLogLine("telling to chown foreign.call") { $0.contains("foreign.call") && $0.contains("chown") }
            #expect(spool.doneNames().contains { $0.hasPrefix("foreign.call") }, "outgoing_done: \(spool.doneNames())")
        }
    }

    @Test("A file whose StartRetry cannot be written is not dialled; it stays, the error names owner and mode, and the step is retried",
          .enabled(if: canDropCapabilities, "needs root and setpriv to take the override capabilities away"))
    func readOnlyIsNotDialledUntilFixed() async throws {
        let spool = try TemporarySpool()
        let staged = try Self.stageForeign(spool, "readonly.call", mode: 0o644)
        try await withSpoold(spool: spool, wrapper: Self.withoutOverrides) { spoold in
            try FileSystem.rename(staged, spool.outgoingPath("readonly.call"))
            try await spoold.waitUntil("an error naming readonly.call's owner and mode") {
                spoold.logLines.contains { $0.contains("readonly.call") && $0.contains("mode") && $0.contains("owner") }
            }
            #expect(Self.dialLines(spoold, "readonly.call").isEmpty, "dialled without its StartRetry record")
            #expect(spool.isInOutgoing("readonly.call"))

            // The administrator fixes the ownership; the retried step then goes through.
            #expect(chown(spool.outgoingPath("readonly.call"), 0, 0) == 0)
            let file = try await spool.waitForArchive("readonly.call", by: spoold, timeout: .seconds(40))
            #expect(file.status == "Expired")
            #expect(file.tags == ["StartRetry", "EndRetry", "StartRetry"])
        }
    }
}
