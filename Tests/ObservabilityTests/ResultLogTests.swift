import CallFile
import Foundation
import Spooler
import Testing
import TestSupport
@testable import SpoolObservability

@Suite("Result log")
struct ResultLogTests {
    static let t0 = SpoolInstant(seconds: 1_795_364_000, nanoseconds: 123_456_789)

    static func report(_ attempt: Int, _ result: AttemptReport.Result, file: String = "busy.call") -> AttemptReport {
        AttemptReport(file: file, attempt: attempt, channelId: "spoold-abc-\(attempt)", channel: "Sim/busy",
                      started: t0.adding(seconds: 10 * attempt), ended: t0.adding(seconds: 10 * attempt + 2), result: result)
    }

    @Test func aFinishedFileBecomesOneLineListingEveryAttempt() throws {
        var tracker = ResultTracker()
        let busy = AttemptReport.Result.failed(reason: 5, text: "Remote end is Busy")
        #expect(tracker.consume(.attemptEnded(Self.report(1, busy)), now: Self.t0) == nil)
        #expect(tracker.consume(.attemptEnded(Self.report(2, busy)), now: Self.t0) == nil)
        #expect(tracker.consume(.attemptEnded(Self.report(1, .answered, file: "other.call")), now: Self.t0) == nil)
        let consumed = tracker.consume(
            .finished(file: "busy.call", status: .expired, disposition: .archived("busy.call.1"), summary: "Expired after 2 attempts"),
            now: Self.t0.adding(seconds: 30))
        let result = try #require(consumed)
        #expect(tracker.filesTracked == 1, "only other.call is still open")

        let bytes = result.jsonLine
        #expect(bytes.last == UInt8(ascii: "\n"))
        #expect(!bytes.dropLast().contains(UInt8(ascii: "\n")), "one line")
        let line = try JSONDecoder().decode(ResultLine.self, from: Data(bytes))
        #expect(line.file == "busy.call")
        #expect(line.status == "Expired")
        #expect(line.summary == "Expired after 2 attempts")
        #expect(line.disposition == "archived")
        #expect(line.archive == "busy.call.1")
        #expect(line.channel == "Sim/busy")
        #expect(line.finished == "2026-11-22T16:13:50.123Z")
        #expect(line.attempts.map(\.attempt) == [1, 2])
        #expect(line.attempts.map(\.uniqueid) == ["spoold-abc-1", "spoold-abc-2"])
        #expect(line.attempts.allSatisfy { $0.result == "failed" && $0.reason == 5 && $0.reason_text == "Remote end is Busy" })
        #expect(line.attempts[0].start == "2026-11-22T16:13:30.123Z")
        #expect(line.attempts[0].end == "2026-11-22T16:13:32.123Z")
        #expect(line.attempts_omitted == 0)
    }

    @Test func rejectedAndAbortedAttemptsHaveNoReasonCode() throws {
        var tracker = ResultTracker()
        _ = tracker.consume(.attemptEnded(Self.report(1, .aborted)), now: Self.t0)
        _ = tracker.consume(.attemptEnded(Self.report(2, .rejected("Extension does not exist."))), now: Self.t0)
        let consumed = tracker.consume(
            .finished(file: "busy.call", status: .failed, disposition: .deleted, summary: "Failed (Extension does not exist.)"), now: Self.t0)
        let result = try #require(consumed)
        let line = try JSONDecoder().decode(ResultLine.self, from: Data(result.jsonLine))
        #expect(line.archive == nil)
        #expect(line.attempts.map(\.result) == ["aborted", "rejected"])
        #expect(line.attempts.map(\.reason) == [nil, nil])
        #expect(line.attempts[1].reason_text == "Extension does not exist.")
    }

    @Test func aFileFinishedWithoutAttemptsHasNoChannel() throws {
        var tracker = ResultTracker()
        let consumed = tracker.consume(
            .finished(file: "bad.call", status: .failed, disposition: .archived("bad.call"), summary: "Failed (invalid: no Channel)"), now: Self.t0)
        let result = try #require(consumed)
        let line = try JSONDecoder().decode(ResultLine.self, from: Data(result.jsonLine))
        #expect(line.channel == nil)
        #expect(line.attempts.isEmpty)
    }

    @Test func hostileValuesStayInsideTheirJSONString() throws {
        let name = "we\"ird\\name\n\u{1}é.call"
        let text = "quote \" backslash \\ tab \t nul \u{0} del \u{7f}"
        var tracker = ResultTracker()
        _ = tracker.consume(.attemptEnded(Self.report(1, .rejected(text), file: name)), now: Self.t0)
        let consumed = tracker.consume(.finished(file: name, status: .failed, disposition: .deleted, summary: text), now: Self.t0)
        let result = try #require(consumed)
        let bytes = result.jsonLine
        #expect(!bytes.dropLast().contains(UInt8(ascii: "\n")))
        let line = try JSONDecoder().decode(ResultLine.self, from: Data(bytes))
        #expect(line.file == name)
        #expect(line.summary == text)
        #expect(line.attempts[0].reason_text == text)
    }

    @Test func aFileThatGoesAwayOrIsReusedDropsItsAttempts() {
        var tracker = ResultTracker()
        _ = tracker.consume(.attemptEnded(Self.report(1, .answered, file: "gone.call")), now: Self.t0)
        _ = tracker.consume(.attemptEnded(Self.report(1, .answered, file: "reused.call")), now: Self.t0)
        _ = tracker.consume(.forgotten(file: "gone.call"), now: Self.t0)
        _ = tracker.consume(.keptForReuse(file: "reused.call", due: Self.t0), now: Self.t0)
        #expect(tracker.filesTracked == 0)
    }

    @Test func aHugeMaxRetriesKeepsOnlyTheLatestAttempts() throws {
        var tracker = ResultTracker()
        let total = ResultTracker.attemptsKept + 5
        for attempt in 1...total {
            _ = tracker.consume(.attemptEnded(Self.report(attempt, .failed(reason: 0, text: "x"))), now: Self.t0)
        }
        let consumed = tracker.consume(
            .finished(file: "busy.call", status: .expired, disposition: .deleted, summary: "s"), now: Self.t0)
        let result = try #require(consumed)
        #expect(result.attempts.count == ResultTracker.attemptsKept)
        #expect(result.attempts.first?.attempt == 6)
        #expect(result.attemptsOmitted == 5)
        #expect(result.attemptCount == total)
    }

    @Test func theWriterAppendsEveryLineAndKeepsWhatWasThere() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/results.jsonl"
        try "earlier line\n".write(toFile: path, atomically: false, encoding: .utf8)
        let writer = ResultLogWriter(path: path, metrics: nil, logger: LogCapture().logger)
        let running = Task { await writer.run() }
        for index in 0..<500 {
            #expect(writer.submit(Array("{\"n\":\(index)}\n".utf8)))
        }
        writer.finish()
        await running.value
        let lines = try #require(directory.read("results.jsonl")).split(separator: "\n")
        #expect(lines.first == "earlier line")
        #expect(lines.dropFirst().map(String.init) == (0..<500).map { "{\"n\":\($0)}" })
    }

    @Test func aFullBufferDropsCountsAndLogsInsteadOfWaiting() async throws {
        let directory = try TemporaryDirectory()
        let log = LogCapture()
        let metrics = SpoolMetrics(started: Self.t0)
        // Not running yet: nothing drains the buffer.
        let writer = ResultLogWriter(path: directory.path + "/r.jsonl", capacity: 3, metrics: metrics, logger: log.logger)
        let accepted = (0..<5).map { writer.submit(Array("{\"n\":\($0)}\n".utf8)) }
        #expect(accepted == [true, true, true, false, false])
        #expect(PrometheusText(metrics.render())["spoold_result_log_dropped_total"] == 2)
        #expect(log.messages.filter { $0.contains("dropping lines") }.count == 1, "one message per streak: \(log.messages)")
        let running = Task { await writer.run() }
        writer.finish()
        await running.value
        #expect(directory.read("r.jsonl") == "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n")
    }

    @Test func aWriteThatFailsIsCountedAndLoggedOnce() async throws {
        let directory = try TemporaryDirectory()
        let log = LogCapture()
        let metrics = SpoolMetrics(started: Self.t0)
        // A directory stands where the file should be: every open fails.
        let path = directory.path + "/taken"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        #expect(throws: SystemError.self) { try ResultLogWriter.checkWritable(path) }
        let writer = ResultLogWriter(path: path, metrics: metrics, logger: log.logger)
        let running = Task { await writer.run() }
        writer.submit(Array("{}\n".utf8))
        writer.submit(Array("{}\n".utf8))
        writer.finish()
        await running.value
        #expect(PrometheusText(metrics.render())["spoold_result_log_write_errors_total"] == 2)
        #expect(log.messages.filter { $0.contains("cannot append") }.count == 1, "\(log.messages)")
    }
}
