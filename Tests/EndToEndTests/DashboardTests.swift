import Foundation
import TestSupport
import Testing

/// samples/grafana-dashboard.json may only query metrics that spoold really exports: every metric name in
/// its queries is looked up in the /metrics output of a running spoold that has seen a call, an AMI
/// server and a hook run (labelled series only appear once something happened).
@Suite("Grafana dashboard")
struct DashboardTests {
    static let dashboardPath: String = {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        return root.appendingPathComponent("samples/grafana-dashboard.json").path
    }()

    /// Every PromQL text of the dashboard: panel targets' `expr` and template variables' `query`.
    static func queries(in json: Any) -> [String] {
        switch json {
        case let object as [String: Any]:
            return object.flatMap { key, value -> [String] in
                if (key == "expr" || key == "query"), let text = value as? String { return [text] }
                return queries(in: value)
            }
        case let array as [Any]:
            return array.flatMap { queries(in: $0) }
        default:
            return []
        }
    }

    /// The metric names a query uses: identifiers starting with `spoold_`.
    static func metricNames(in query: String) -> Set<String> {
        let regex = try! Regex(#"spoold_[a-zA-Z0-9_]+"#)
        return Set(query.matches(of: regex).map { String(query[$0.range]) })
    }

    /// Series names in the Prometheus text format: the first token of each sample line.
    static func exportedNames(_ metrics: String) -> Set<String> {
        Set(metrics.split(separator: "\n").compactMap { line -> String? in
            guard !line.hasPrefix("#"), let name = line.split(whereSeparator: { $0 == "{" || $0 == " " }).first else { return nil }
            return String(name)
        })
    }

    @Test("Every metric the dashboard queries is on /metrics of a running spoold; every panel queries spoold")
    func dashboardQueriesExportedMetrics() async throws {
        let data = try #require(FileManager.default.contents(atPath: Self.dashboardPath), "no \(Self.dashboardPath)")
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        #expect(!panels.isEmpty)
        for panel in panels {
            let names = Self.queries(in: panel["targets"] ?? []).flatMap(Self.metricNames)
            #expect(!names.isEmpty, "panel '\(panel["title"] ?? "?")' queries no spoold metric")
        }
        let used = Self.queries(in: dashboard).reduce(into: Set<String>()) { $0.formUnion(Self.metricNames(in: $1)) }
        // What the issue asks the dashboard to show.
        for required in ["spoold_calls_in_flight", "spoold_max_concurrent", "spoold_dial_latency_seconds_count",
                         "spoold_attempts_total", "spoold_queue_scheduled_files", "spoold_queue_due_files",
                         "spoold_queue_parked_files", "spoold_queue_held_files", "spoold_dial_latency_seconds_bucket",
                         "spoold_ami_connected"] {
            #expect(used.contains(required), "the dashboard shows no \(required)")
        }

        let spool = try TemporarySpool()
        let arguments = ["--metrics-listen", "127.0.0.1:0", "--on-finish", "true", "--limit", "PJSIP/*=5"]
        try await withAMISpoold(spool: spool, arguments: arguments) { _, spoold in
            try spool.submit("one.call", callFile(["Channel": "PJSIP/answer", "Application": "Playback", "Data": "x",
                                                   "Archive": "yes"]))
            _ = try await spool.waitForArchive("one.call", by: spoold)
            var metrics = ""
            try await waitUntilAsync("/metrics to show the call, the server and the hook", every: .milliseconds(200)) {
                let status = try await ObservabilityEndToEndTests.status(["--spool-dir", spool.root, "--json"])
                guard status.status == 0,
                      let object = try? JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any],
                      let address = object["metrics_listen"] as? String,
                      let (host, port) = ObservabilityEndToEndTests.split(address) else { return false }
                metrics = try ObservabilityEndToEndTests.httpGet(host: host, port: port, path: "/metrics")
                return metrics.contains("spoold_on_finish_runs_total{") && metrics.contains("spoold_attempts_total{")
            }
            let exported = Self.exportedNames(metrics)
            for name in used.sorted() {
                #expect(exported.contains(name), "the dashboard queries \(name), which spoold does not export:\n\(metrics)")
            }
        }
    }
}
