import CallFile
import Testing
@testable import Spooler

/// `InterruptedAttempt`: the check of an attempt a stop or crash left in flight, answers in → next step out.
@Suite("An interrupted attempt")
struct InterruptedAttemptTests {
    static let now = SpoolInstant(seconds: 1_795_364_000)
    static let file = CallFileParser.parse(Array("""
        Channel: Sim/answer
        Application: Wait
        MaxRetries: 2
        RetryTime: 20
        StartRetry: 4242 1 (1795363900)

        """.utf8), path: "r.call").file

    func interrupted() throws -> InterruptedAttempt {
        InterruptedAttempt(name: "r.call", file: Self.file, start: try #require(Self.file.inFlightStart))
    }

    @Test("The record alone gives the ChannelId and the start time (its epoch less RetryTime); the pid is not consulted")
    func fromTheRecord() throws {
        let attempt = try interrupted()
        #expect(attempt.channelId == ChannelID.make(fileName: "r.call", startEpoch: 1_795_363_900, attempt: 1))
        #expect(attempt.started == SpoolInstant(seconds: 1_795_363_880))
        #expect(attempt.abortDue == nil)
    }

    @Test("The backend's answer → the next step", arguments: [
        (Bool?.none, 1, InterruptedAttempt.Next.askAgain),
        (true, 1, .adopt),
        (false, 1, .writeAbort(number: 2, due: InterruptedAttemptTests.now.adding(seconds: 20))),
        (false, 2, .writeAbort(number: 3, due: InterruptedAttemptTests.now.adding(seconds: 20))),
    ])
    func answers(exists: Bool?, made: Int, next: InterruptedAttempt.Next) throws {
        var attempt = try interrupted()
        let answered = attempt.answer(exists, made: made, now: Self.now)
        #expect(answered == next)
        #expect(attempt.abortedLast == (made + 1 > 2 && exists == false))
    }

    @Test("Once the AbortRetry is under way, a late answer changes nothing")
    func lateAnswer() throws {
        var attempt = try interrupted()
        let first = attempt.answer(false, made: 1, now: Self.now)
        #expect(first == .writeAbort(number: 2, due: Self.now.adding(seconds: 20)))
        for exists in [nil, true, false] as [Bool?] {
            let late = attempt.answer(exists, made: 1, now: Self.now.adding(seconds: 1))
            #expect(late == nil)
        }
        #expect(attempt.abortNumber == 2 && attempt.abortDue == Self.now.adding(seconds: 20))
    }

    @Test("An adopted call is followed as the attempt the record names, from the start the record gives")
    func adopted() throws {
        let info = EntryInfo(kind: .regular, mtime: Self.now.adding(seconds: 20), size: 80, uid: 0, mode: 0o644,
                             fileID: FileID(device: 1, inode: 3))
        let attempt = try interrupted().adopted(info: info, now: Self.now, token: 5)
        #expect(attempt.number == 1 && attempt.token == 5 && attempt.started == SpoolInstant(seconds: 1_795_363_880))
        #expect(attempt.channelId == (try interrupted()).channelId)
        #expect(attempt.mtimeBefore == info.mtime && attempt.ownMtime == info.mtime && attempt.fileID == info.fileID)
        let unseen = try interrupted().adopted(info: nil, now: Self.now, token: 6)
        #expect(unseen.ownMtime == Self.now && unseen.fileID == nil)
    }
}
