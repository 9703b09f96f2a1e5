import Foundation
import Testing

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
            #expect(spoold.logLines.contains { $0.contains("secret.call") && $0.contains("mode") && $0.contains("own") },
                    "\(spoold.tail)")
        }
    }

    @Test("A file spoold can read but not write or re-time makes MaxRetries+1 attempts, then stops",
          .enabled(if: canDropCapabilities, "needs root and setpriv to take the override capabilities away"))
    func unwritableRecordsDoNotLoop() async throws {
        let spool = try TemporarySpool()
        let text = callFile(["Channel": "Sim/busy", "MaxRetries": "1", "RetryTime": "1", "Application": "Playback",
                             "Data": "x", "Archive": "yes"])
        let staged = spool.staging + "/foreign.call"
        try FileSystem.write(Array(text.utf8), to: staged)
        // Owned by nobody, mode 0644: readable, but neither writable nor re-timeable by spoold.
        #expect(chown(staged, 65534, 65534) == 0)
        try await withSpoold(spool: spool, wrapper: Self.withoutOverrides) { spoold in
            try FileSystem.rename(staged, spool.outgoingPath("foreign.call"))
            try await spool.waitForRemoval("foreign.call", by: spoold, timeout: .seconds(30))
            // Asterisk would never get here: every read looks like attempt 1 and it dials every RetryTime.
            let dials = spoold.logLines.filter { $0.contains("[foreign.call]") && $0.contains("dialling") }
            #expect(dials.count == 2, "dial log lines:\n\(dials.joined(separator: "\n"))")
            #expect(spoold.logLines.contains { $0.contains("foreign.call") && $0.contains("chown") }, "\(spoold.tail)")
            #expect(spool.doneNames().contains { $0.hasPrefix("foreign.call") }, "outgoing_done: \(spool.doneNames())")
        }
    }
}
