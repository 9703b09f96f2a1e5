import CallFile
import Spooler
import Testing
@testable import SpoolObservability

@Suite("Prometheus metrics from the engine's events")
struct MetricsTests {
    static let t0 = SpoolInstant(seconds: 1_795_364_000)

    static func report(_ file: String, _ attempt: Int, _ result: AttemptReport.Result) -> AttemptReport {
        AttemptReport(file: file, attempt: attempt, channelId: "spoold-\(file)-\(attempt)", channel: "PJSIP/100",
                      started: t0, ended: t0.adding(seconds: 5), result: result)
    }

    @Test func scriptedEventsGiveTheCountsAndTheLatencyHistogram() {
        let metrics = SpoolMetrics(started: Self.t0)
        let events: [EngineEvent] = [
            .ready(scheduled: 2),
            .attemptStarted(file: "a.call", attempt: 1, channelId: "x"),
            .attemptDialled(file: "a.call", attempt: 1, latency: .milliseconds(30)),
            .attemptEnded(Self.report("a.call", 1, .failed(reason: 5, text: "Remote end is Busy"))),
            .retryScheduled(file: "a.call", attempt: 1, reason: 5, nextDue: Self.t0.adding(seconds: 60)),
            .attemptDialled(file: "a.call", attempt: 2, latency: .seconds(2)),
            .attemptEnded(Self.report("a.call", 2, .failed(reason: 5, text: "Remote end is Busy"))),
            .finished(file: "a.call", status: .expired, disposition: .archived("a.call"), summary: "Expired after 2 attempts"),
            .attemptDialled(file: "b.call", attempt: 1, latency: .seconds(400)),
            .attemptEnded(Self.report("b.call", 1, .answered)),
            .finished(file: "b.call", status: .completed, disposition: .deleted, summary: "Completed on attempt 1 of 1"),
            .attemptEnded(Self.report("c.call", 1, .rejected("Extension does not exist."))),
            .attemptEnded(Self.report("d.call", 1, .failed(reason: 77, text: "odd"))),
            .finished(file: "c.call", status: .failed, disposition: .archived("c.call"), summary: "Failed (Extension does not exist.)"),
            .notPlaced(file: "e.call"),
            .stepFailed(file: "e.call", step: "archive"),
        ]
        for event in events { metrics.record(event) }
        metrics.record(QueueSnapshot(due: 3, scheduled: 7, nextDue: Self.t0, inFlight: 2, backendReady: false,
                                     parked: 1, maxConcurrent: 30, held: 4))
        metrics.record([ServerConnection(name: "127.0.0.1:5038", connected: true),
                        ServerConnection(name: "pbx-b:5038", connected: false)])

        let text = PrometheusText(metrics.render())
        #expect(text[#"spoold_attempts_total{result="failed",reason="5"}"#] == 2)
        #expect(text[#"spoold_attempts_total{result="answered",reason="4"}"#] == 1)
        #expect(text[#"spoold_attempts_total{result="rejected",reason="none"}"#] == 1)
        #expect(text[#"spoold_attempts_total{result="failed",reason="other"}"#] == 1, "unknown codes share one series")
        #expect(text[#"spoold_finished_total{status="Expired"}"#] == 1)
        #expect(text[#"spoold_finished_total{status="Completed"}"#] == 1)
        #expect(text[#"spoold_finished_total{status="Failed"}"#] == 1)
        #expect(text["spoold_queue_due_files"] == 3)
        #expect(text["spoold_queue_scheduled_files"] == 7)
        #expect(text["spoold_calls_in_flight"] == 2)
        #expect(text["spoold_backend_ready"] == 0)
        #expect(text["spoold_queue_parked_files"] == 1)
        #expect(text["spoold_queue_held_files"] == 4)
        #expect(text["spoold_max_concurrent"] == 30)
        #expect(text[#"spoold_ami_connected{server="127.0.0.1:5038"}"#] == 1)
        #expect(text[#"spoold_ami_connected{server="pbx-b:5038"}"#] == 0)
        #expect(text["spoold_not_placed_total"] == 1)
        #expect(text["spoold_step_failures_total"] == 1)
        #expect(text["spoold_start_time_seconds"] == Double(Self.t0.seconds))
        // Three dials: 30 ms, 2 s, 400 s.
        #expect(text["spoold_dial_latency_seconds_count"] == 3)
        #expect(text[#"spoold_dial_latency_seconds_bucket{le="0.05"}"#] == 1)
        #expect(text[#"spoold_dial_latency_seconds_bucket{le="2.5"}"#] == 2)
        #expect(text[#"spoold_dial_latency_seconds_bucket{le="300.0"}"#] == 2)
        #expect(text[#"spoold_dial_latency_seconds_bucket{le="900.0"}"#] == 3)
        #expect(text["spoold_dial_latency_seconds_sum"].map { abs($0 - 402.03) < 0.001 } == true)
        #expect(text.lines.contains("# TYPE spoold_attempts_total counter"))
        #expect(text.lines.contains { $0.hasPrefix("# HELP spoold_queue_due_files ") })
    }

    @Test func statusesShowBeforeAnyFileFinished() {
        let text = PrometheusText(SpoolMetrics(started: Self.t0).render())
        for status in CallStatus.allCases {
            #expect(text[#"spoold_finished_total{status="\#(status.rawValue)"}"#] == 0)
        }
    }

    @Test func noLabelCarriesAFileName() {
        let metrics = SpoolMetrics(started: Self.t0)
        metrics.record(.attemptEnded(Self.report("secret-customer-4711.call", 1, .answered)))
        metrics.record(.finished(file: "secret-customer-4711.call", status: .completed, disposition: .deleted, summary: "x"))
        let text = String(decoding: metrics.render(), as: UTF8.self)
        #expect(!text.contains("4711"))
        #expect(!text.contains("PJSIP"))
    }

    @Test func theStatusBoardCountsAndSamples() {
        let board = StatusBoard(StatusSnapshot(pid: 42, spoolDirectory: "/s", backend: "simulate", startedAt: 1))
        board.record(.attemptEnded(Self.report("a.call", 1, .answered)))
        board.record(.finished(file: "a.call", status: .completed, disposition: .deleted, summary: "x"))
        let snapshot = board.record(QueueSnapshot(due: 1, scheduled: 2, nextDue: SpoolInstant(seconds: 100, nanoseconds: 500_000_000),
                                                  inFlight: 3, backendReady: true), servers: [])
        #expect(snapshot.attempts == 1)
        #expect(snapshot.finished == ["Completed": 1])
        #expect(snapshot.queued == 1 && snapshot.scheduled == 2 && snapshot.inFlight == 3)
        #expect(snapshot.nextDue == 100.5)
    }

    @Test func theSchedulerCensusSplitsDueFromLater() {
        var scheduler = Scheduler()
        var stamps: [String: Scheduler.Stamp] = [:]
        for (name, seconds) in [("past.call", -10), ("now.call", 0), ("soon.call", 30), ("later.call", 3600), ("soon.call", 20)] {
            scheduler.upsert(name, due: Self.t0.adding(seconds: seconds), stamp: &stamps[name, default: .none])  // soon.call rescheduled: counted once
        }
        stamps["gone.call"] = Scheduler.Stamp.none  // known, not scheduled: not counted
        let census = scheduler.census(now: Self.t0, in: stamps)
        #expect(census.due == 2)
        #expect(census.later == 2)
        #expect(census.nextLater == Self.t0.adding(seconds: 20))
    }
}
