import Foundation
import Testing
import TestSupport

extension TemporarySpool {
    /// The archived file, once it carries its Status line.
    func archived(_ name: String) -> ArchivedCallFile? {
        guard let bytes = FileSystem.read(donePath(name)) else { return nil }
        let file = ArchivedCallFile(bytes: bytes)
        return file.status == nil ? nil : file
    }

    /// Waits until `outgoing_done/<name>` carries its Status line and returns it.
    func waitForArchive(
        _ name: String, by spoold: SpooldProcess, timeout: Duration = .seconds(30)
    ) async throws -> ArchivedCallFile {
        try await spoold.waitUntil("\(name) archived with a Status line", timeout: timeout) {
            self.archived(name) != nil
        }
        return try #require(archived(name))
    }

    /// Waits until the file has left `outgoing/` (deleted, or archived and then deleted from the queue).
    func waitForRemoval(_ name: String, by spoold: SpooldProcess, timeout: Duration = .seconds(30)) async throws {
        try await spoold.waitUntil("\(name) to leave outgoing/", timeout: timeout) { !self.isInOutgoing(name) }
    }

    /// The records currently in the queued file (empty when it is gone).
    func recordsInOutgoing(_ name: String) -> [ArchivedCallFile.Record] {
        FileSystem.read(outgoingPath(name)).map { ArchivedCallFile(bytes: $0).records } ?? []
    }
}

/// Checks the spacing rules on one archived file's records, as Asterisk writes them: StartRetry's epoch is
/// read time + RetryTime, EndRetry's epoch is the real end. Returns a list of violations (empty = fine).
func retrySpacingViolations(_ records: [ArchivedCallFile.Record], retryTime: Int) -> [String] {
    var problems: [String] = []
    var lastEnd: ArchivedCallFile.Record?
    for record in records {
        switch record.tag {
        case "StartRetry":
            if let end = lastEnd, record.epoch - retryTime < end.epoch + retryTime {
                problems.append("\(record) was read at \(record.epoch - retryTime), less than RetryTime \(retryTime) s after \(end)")
            }
        case "EndRetry", "AbortRetry":
            lastEnd = record
        default:
            break
        }
    }
    return problems
}
