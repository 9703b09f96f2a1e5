import CallFile
import Testing
@testable import Spooler

/// `AttemptStart`: the StartRetry record's result in → the call placed, the step retried, the file failed or forgotten.
@Suite("The start of an attempt")
struct AttemptStartTests {
    typealias StepFailure = SpoolStateMachine.StepFailure
    static let t0 = SpoolInstant(seconds: 1_795_364_000)
    static let info = EntryInfo(kind: .regular, mtime: t0.adding(seconds: -5), size: 40, uid: 0, mode: 0o644, fileID: FileID(device: 1, inode: 7))
    static let written = FileID(device: 1, inode: 8)

    static func attempt(_ text: String = "Channel: Sim/answer\nApplication: Wait\nMaxRetries: 2\n") -> CallAttempt {
        CallAttempt(CallFileParser.parse(Array(text.utf8), path: "s.call").file, name: "s.call", made: 0, info: info, now: t0, token: 4)
    }

    static func decide(_ result: Result<SpoolStateMachine.Appended, StepFailure>, refusedInARow: Bool = false,
                       attempt: CallAttempt = attempt()) -> AttemptStart.Decision {
        AttemptStart(name: "s.call", attempt: attempt).decide(result, refusedInARow: refusedInARow, ownership: "spoold runs as uid 1000",
                                                              stepRetryDelay: .seconds(10), now: t0)
    }

    @Test("Written: the attempt, with the length before the record and the file's identity, goes out; its lines end with the place")
    func written() throws {
        let decision = Self.decide(.success(.init(lengthBefore: 51, fileID: Self.written, timesFailure: nil, infoAfter: nil)))
        var expected = Self.attempt()
        (expected.lengthBefore, expected.fileID) = (51, Self.written)
        let request = try #require(CallRequest(file: expected.file, attempt: 1, channelId: expected.channelId))
        #expect(decision == .place(expected, channel: "Sim/answer", [
            .debug(.dialling(name: "s.call", attempt: 1, of: 3, channel: expected.file.channel, channelId: expected.channelId)),
            .emit(.attemptStarted(file: "s.call", attempt: 1, channelId: expected.channelId)),
            .emit(.attemptDialled(file: "s.call", attempt: 1, latency: .seconds(5))),
            .place("s.call", request, token: 4)]))
        // A file without a channel makes no request: its entry goes.
        let none = Self.decide(.success(.init(lengthBefore: 0, fileID: Self.written, timesFailure: nil, infoAfter: nil)),
                               attempt: Self.attempt("Application: Wait\n"))
        #expect(none == .unplaceable)
    }

    @Test("Not written: gone, refused once too often (moved aside), or tried again shortly with no call placed")
    func notWritten() {
        let owner = EntryInfo(kind: .regular, mtime: Self.t0, size: 40, uid: 0, mode: 0o444, fileID: Self.written)
        #expect(Self.decide(.failure(StepFailure(code: 2, text: "No such file or directory", infoAfter: nil))) == .gone)
        let refused = StepFailure(code: 13, text: "Permission denied", infoAfter: owner)
        #expect(Self.decide(.failure(refused), refusedInARow: true) == .refusedForGood(
            [.log(.error, "[s.call] cannot write retry records (Permission denied; owner uid 0, mode 0444; spoold runs as uid 1000), 3 times in a row; never dialled. Fix: chown the call files to the spoold user, or make them writable by it")],
            .aside("retry records cannot be written")))
        let retryAt = Self.t0.adding(seconds: 10)
        #expect(Self.decide(.failure(refused)) == .retry(
            [.log(.error, "[s.call] cannot write the StartRetry record: Permission denied; owner uid 0, mode 0444, spoold runs as uid 1000; no call placed, trying again at \(retryAt.timeOfDay)"),
             .emit(.stepFailed(file: "s.call", step: "write the StartRetry record"))], at: retryAt))
        #expect(Self.decide(.failure(StepFailure(code: 28, text: "No space left on device", infoAfter: nil))) == .retry(
            [.log(.error, "[s.call] cannot write the StartRetry record: No space left on device; no call placed, trying again at \(retryAt.timeOfDay)"),
             .emit(.stepFailed(file: "s.call", step: "write the StartRetry record"))], at: retryAt))
    }
}
