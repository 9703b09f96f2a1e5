import CallFile
import Testing
@testable import Spooler

/// `CallAttempt`: how an attempt starts, and how the backend's stages fold into how it ended.
@Suite("A call attempt")
struct CallAttemptTests {
    static let t0 = SpoolInstant(seconds: 1_795_364_000)
    static let file = CallFileParser.parse(Array("Channel: Sim/busy\nApplication: Wait\nRetryTime: 30\n".utf8),
                                           path: "a.call").file
    static let info = EntryInfo(kind: .regular, mtime: t0.adding(seconds: -5), size: 40, uid: 0, mode: 0o644,
                                fileID: FileID(device: 1, inode: 7))

    @Test("A new attempt is numbered after those made; its record's epoch is the start plus RetryTime, its mtime the start plus twice")
    func starting() {
        let attempt = CallAttempt(Self.file, name: "a.call", made: 2, info: Self.info, now: Self.t0, token: 9)
        #expect(attempt.number == 3 && attempt.token == 9 && attempt.started == Self.t0)
        #expect(attempt.startEpoch == Self.t0.seconds + 30)
        #expect(attempt.startAtime == Self.t0.adding(seconds: 30))
        #expect(attempt.ownMtime == Self.t0.adding(seconds: 60))
        #expect(attempt.mtimeBefore == Self.info.mtime && attempt.fileID == Self.info.fileID && attempt.lengthBefore == 0)
        #expect(attempt.channelId == ChannelID.make(fileName: "a.call", startEpoch: Self.t0.seconds + 30, attempt: 3))
        #expect(!attempt.answered && !attempt.cancelled)
    }

    typealias Outcome = CallAttempt.Outcome

    @Test("Stages in → how the attempt ended (nil while it goes on)", arguments: [
        ([CallStage?.some(.placed)], false, Outcome?.none),
        ([.placed, .answered(channel: "Sim/x")], false, nil),
        ([.placed, .answered(channel: "Sim/x"), .hungUp], false, .completed),
        ([.placed, .answered(channel: "Sim/x")], true, .completed),
        ([.answered(channel: "Sim/x"), nil], false, .completed),
        ([.placed, .hungUp], false, .failed(reason: 0, text: "hung up before answer")),
        ([.placed, nil], false, .failed(reason: 0, text: "the backend gave no result")),
        ([.placed, .failed(reason: 5, text: "Remote end is Busy")], false, .failed(reason: 5, text: "Remote end is Busy")),
        ([.rejected("Extension does not exist.")], false, .rejected("Extension does not exist.")),
        ([.notPlaced("no connection")], false, .notPlaced("no connection")),
    ] as [([CallStage?], Bool, Outcome?)])
    func stages(stages: [CallStage?], finishAtAnswer: Bool, expected: Outcome?) {
        var attempt = CallAttempt(Self.file, name: "a.call", made: 0, info: Self.info, now: Self.t0, token: 1)
        var outcome: Outcome?
        for stage in stages { outcome = attempt.outcome(after: stage, finishAtAnswer: finishAtAnswer) }
        #expect(outcome == expected)
        #expect(attempt.answered == stages.contains { if case .answered? = $0 { true } else { false } })
    }

    @Test("Observability hears of every outcome but a call that never reached the PBX", arguments: [
        (Outcome.completed, AttemptReport.Result?.some(.answered)),
        (.failed(reason: 3, text: "No answer"), .failed(reason: 3, text: "No answer")),
        (.rejected("no"), .rejected("no")),
        (.notPlaced("down"), nil),
    ])
    func report(outcome: Outcome, result: AttemptReport.Result?) {
        #expect(outcome.report == result)
    }
}
