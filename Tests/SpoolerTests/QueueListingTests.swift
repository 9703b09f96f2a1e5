import CallFile
import Testing
@testable import Spooler

/// How each of the core's states shows in `spoold queue` (`QueueEntry.init(_:_:parkedDue:now:)`).
@Suite("The queue listing, state by state")
struct QueueListingTests {
    typealias Entry = SpoolStateMachine.Entry
    static let now = SpoolInstant(seconds: 1_795_364_000)
    static let summary = SpoolStateMachine.FileSummary(channel: "Sim/x", attemptsMade: 1, attemptsAllowed: 3)

    static func stamped(_ state: SpoolStateMachine.FileState, due: SpoolInstant) -> Entry {
        Entry(state: state, memos: FileMemos(summary: summary), stamp: Scheduler.Stamp(due: due, order: 1))
    }

    @Test("State → what the listing shows and the due time it gives", arguments: [
        (stamped(.scheduled, due: now.adding(seconds: 5)), Optional(QueueEntry.State.scheduled), Optional(now.adding(seconds: 5))),
        (stamped(.scheduled, due: now), .due, now),
        (Entry(state: .due, memos: FileMemos(summary: summary)), .due, now),
        (Entry(state: .parked, memos: FileMemos(summary: summary)), .parked, now.adding(seconds: -3)),
        (stamped(.held(until: now.adding(seconds: 3600)), due: now.adding(seconds: 3600)), .held, now.adding(seconds: 3600)),
        (stamped(.finishRetry(.aside("x"), marked: true), due: now.adding(seconds: 10)), .finishing, now.adding(seconds: 10)),
        (Entry(state: .finishing(.aside("x")), memos: FileMemos(summary: summary)), .finishing, nil),
        (Entry(state: .departed), nil, nil),
        (Entry(state: .skipped), nil, nil),
    ])
    func listed(entry: Entry, state: QueueEntry.State?, due: SpoolInstant?) {
        let listed = QueueEntry("f.call", entry, parkedDue: ["f.call": Self.now.adding(seconds: -3)], now: Self.now)
        #expect(listed?.state == state)
        #expect(listed?.due == due)
        if listed != nil { #expect(listed?.summary == Self.summary && listed?.name == "f.call") }
    }

    @Test("A call in flight shows its attempt, its start and the attempts made before it, from the attempt itself")
    func inFlight() throws {
        let file = CallFileParser.parse(Array("Channel: Sim/answer\nApplication: Wait\nMaxRetries: 4\n".utf8), path: "f.call").file
        let info = EntryInfo(kind: .regular, mtime: Self.now, size: 40, uid: 0, mode: 0o644, fileID: FileID(device: 1, inode: 2))
        let attempt = CallAttempt(file, name: "f.call", made: 2, info: info, now: Self.now, token: 1)
        let listed = try #require(QueueEntry("f.call", Entry(state: .dialling(attempt)), parkedDue: [:], now: Self.now))
        #expect(listed.state == .inFlight(attempt: 3) && listed.due == Self.now)
        #expect(listed.summary == .init(channel: "Sim/answer", attemptsMade: 2, attemptsAllowed: 5))
    }
}
