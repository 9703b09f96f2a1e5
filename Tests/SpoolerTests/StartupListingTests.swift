import CallFile
import Testing
@testable import Spooler

/// `StartupListing`: the archives finished at start, the listing and its leftovers in → lines and removals out.
@Suite("The start-up listing")
struct StartupListingTests {
    typealias StepFailure = SpoolStateMachine.StepFailure
    static let info = EntryInfo(kind: .regular, mtime: SpoolInstant(seconds: 1_795_364_000), size: 40, uid: 0, mode: 0o644,
                                fileID: FileID(device: 1, inode: 2))

    static func read(_ recovered: [StartupListing.Recovered], _ listing: Result<[(String, EntryInfo?)], StepFailure>)
        -> (actions: [SpoolStateMachine.Action], names: [String]) {
        let read = StartupListing.read(recovered, listing, outgoingPath: "/o", donePath: "/d")
        return (read.actions, read.names.map(\.0))
    }

    @Test("Each interrupted archive gives one line: finished, or why it stays in outgoing_done")
    func recovered() {
        let failure = StepFailure(code: 13, text: "Permission denied", infoAfter: nil)
        let read = Self.read([(".a.call.staging", "a.call", nil), (".b.call.staging", "b.call", failure)], .success([]))
        #expect(read.actions == [
            .log(.notice, "[a.call] finished an archive interrupted by a stop or crash: outgoing_done/a.call"),
            .log(.error, "[.b.call.staging] could not finish an interrupted archive: Permission denied; it stays in /d")])
        #expect(read.names.isEmpty)
    }

    @Test("A rewrite temporary a crash left is removed; every listed name goes on to be scheduled; a failed listing is said")
    func listing() {
        let read = Self.read([], .success([("a.call", Self.info), (".a.call.spoold-rewrite", Self.info), ("b.call.spoold-rewrite", nil),
                                           (".hidden", Self.info)]))
        #expect(read.actions == [.removeLeftover(".a.call.spoold-rewrite")])
        #expect(read.names == ["a.call", ".a.call.spoold-rewrite", "b.call.spoold-rewrite", ".hidden"])
        let failed = Self.read([], .failure(StepFailure(code: 5, text: "Input/output error", infoAfter: nil)))
        #expect(failed.actions == [.log(.error, "cannot list /o: Input/output error")] && failed.names.isEmpty)
    }
}
