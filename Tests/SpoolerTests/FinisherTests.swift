import Testing
@testable import Spooler

/// The finisher's archive renames: a lone step with nothing queued is done at once on the caller's thread;
/// more go through its queue, in order. Either way each result arrives through the inbox.
@Suite("Finisher: where the archive rename runs")
struct FinisherTests {
    static func marked(_ names: [String], in spool: DiskSyncTests.Spool) throws -> (Finisher, Inbox, [Finisher.Step]) {
        let outgoing = try SpoolDirectory(path: spool.outgoingPath, create: false)
        let archiver = Archiver(outgoing: outgoing, donePath: spool.donePath)
        let inbox = Inbox()
        var steps: [Finisher.Step] = []
        for name in names {
            if name != "a.call" {
                try outgoing.writeNewFile(name, bytes: Array("Channel: Sim/answer\n".utf8), mode: 0o644, mtime: SpoolInstant(seconds: 1))
            }
            steps.append(Finisher.Step(name: name, file: try #require(archiver.markFinished(name, status: .completed))))
        }
        return (Finisher(archiver: archiver, inbox: inbox), inbox, steps)
    }

    static func archivedNames(_ events: [SpoolStateMachine.Event]) -> [String] {
        events.compactMap { event in
            guard case .archived(let name, .success(let archived)) = event else { return nil }
            return archived == name ? name : nil
        }
    }

    @Test("A lone step with nothing queued: archived before start returns")
    func loneStepAtOnce() throws {
        let spool = try DiskSyncTests.Spool()
        let (finisher, inbox, steps) = try Self.marked(["a.call"], in: spool)
        #expect(finisher.isIdle)
        finisher.start(steps)
        #expect(Self.archivedNames(inbox.take()) == ["a.call"])
    }

    @Test("Several steps: through the queue, in order")
    func severalThroughTheQueue() async throws {
        let spool = try DiskSyncTests.Spool()
        let (finisher, inbox, steps) = try Self.marked(["a.call", "b.call", "c.call"], in: spool)
        finisher.start(steps)
        var archived: [String] = []
        while archived.count < 3 {
            await inbox.wait()
            archived += Self.archivedNames(inbox.take())
        }
        #expect(archived == ["a.call", "b.call", "c.call"])
        #expect(finisher.isIdle)
    }

    @Test("A batch larger than one post: every result, in order, none held back once the queue is done")
    func largeBatchInOrder() async throws {
        let spool = try DiskSyncTests.Spool()
        let names = ["a.call"] + (1...(2 * Finisher.postEvery + 5)).map { "f\($0).call" }
        let (finisher, inbox, steps) = try Self.marked(names, in: spool)
        finisher.start(steps)
        var archived: [String] = []
        while archived.count < names.count {
            await inbox.wait()
            archived += Self.archivedNames(inbox.take())
        }
        #expect(archived == names)
        #expect(finisher.isIdle)
        #expect(inbox.take().isEmpty)
    }
}
