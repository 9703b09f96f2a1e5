import CallFile
import CoreMetrics
import Prometheus
import Spooler
import Synchronization

/// spoold's Prometheus metrics. Labels never carry file names or call-file values: their values come
/// from small fixed sets (status, result, reason code, server name), so the number of series stays small.
public final class SpoolMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    let queueDue: Prometheus.Gauge
    let queueScheduled: Prometheus.Gauge
    let inFlight: Prometheus.Gauge
    let backendReady: Prometheus.Gauge
    let queueParked: Prometheus.Gauge
    let queueHeld: Prometheus.Gauge
    let maxConcurrent: Prometheus.Gauge
    let startTime: Prometheus.Gauge
    let finished: [CallStatus: Prometheus.Counter]
    let dialLatency: DurationHistogram
    let notPlaced: Prometheus.Counter
    let stepFailures: Prometheus.Counter
    let resultLogDropped: Prometheus.Counter
    let resultLogWriteErrors: Prometheus.Counter
    /// `spoold_attempts_total`'s series, by result and reason label, made once each: asking the registry
    /// for a series builds its label key and looks it up under a lock, about 10,000 instructions per attempt.
    /// Every series made so far, and the one used last: a burst's attempts mostly end alike, and comparing
    /// two short strings costs less than hashing them for each attempt.
    private let attemptSeries = Mutex<(made: [AttemptSeries: Prometheus.Counter], last: (AttemptSeries, Prometheus.Counter)?)>(([:], nil))

    private struct AttemptSeries: Hashable {
        var result: String
        var reason: String
    }

    /// Due-to-dial latency buckets: from a prompt dial to an hour of backlog.
    public static let latencyBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        .seconds(300), .seconds(900), .seconds(3600),
    ]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), started: SpoolInstant) {
        self.registry = registry
        func gauge(_ name: String, _ unit: String, _ help: String) -> Prometheus.Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "spoold", metricName: name, unitName: unit, helpText: help))
        }
        func counter(_ name: String, _ help: String) -> Prometheus.Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "spoold", metricName: name, unitName: "total", helpText: help))
        }
        queueDue = gauge("queue_due", "files", "Call files due now and waiting for a free slot, the rate limit or the backend.")
        queueScheduled = gauge("queue_scheduled", "files", "Call files waiting for a due time in the future.")
        inFlight = gauge("calls_in_flight", "", "Attempts in flight, from Originate until the attempt ends (adopted calls included).")
        backendReady = gauge("backend_ready", "", "1 while the backend takes calls, 0 while due files wait for it.")
        queueHeld = gauge("queue_held", "files", "Of the scheduled files, those a calling window ([window:PATTERN]) holds until it opens.")
        queueParked = gauge("queue_parked", "files", "Of the due files, those held back because their trunk ([limit:PATTERN]) is at its limit.")
        maxConcurrent = gauge("max_concurrent", "", "The global limit on calls in flight in force (max_concurrent); 0 = no limit.")
        startTime = gauge("start_time", "seconds", "When this spoold started, in seconds since the Unix epoch.")
        startTime.set(Double(started.nanoseconds) / 1e9)
        finished = Dictionary(uniqueKeysWithValues: CallStatus.allCases.map { status in
            (status, registry.makeCounter(descriptor: Self.finishedDescriptor, labels: [("status", status.rawValue)]))
        })
        dialLatency = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: "spoold", metricName: "dial_latency", unitName: "seconds",
                                             helpText: "From a call file's due time (its mtime) to the Originate of an attempt."),
            buckets: Self.latencyBuckets)
        notPlaced = counter("not_placed", "Calls the backend could not take (no AMI connection); not attempts, nothing counted in the file.")
        stepFailures = counter("step_failures", "File-system steps (records, archive) that failed and are retried later.")
        resultLogDropped = counter("result_log_dropped", "Result-log lines dropped because the writer's buffer was full.")
        resultLogWriteErrors = counter("result_log_write_errors", "Result-log lines lost to a failed write (disk full, permissions).")
    }

    static var finishedDescriptor: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "spoold", metricName: "finished", unitName: "total", helpText: "Call files finished, by Status.") }
    static var attemptsDescriptor: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "spoold", metricName: "attempts", unitName: "total",
        helpText: "Attempts that ended, by result (answered, failed, rejected, aborted) and Asterisk reason code.") }
    static var connectedDescriptor: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "spoold", metricName: "ami_connected", unitName: "",
        helpText: "1 while the AMI connection to the server is up and logged in, else 0.") }
    static var hookDescriptor: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "spoold", metricName: "on_finish_runs", unitName: "total",
        helpText: "on_finish hook runs, by outcome (ok, failed, timeout, spawn_error, dropped).") }

    public func record(_ event: EngineEvent) {
        switch event {
        case .attemptDialled(_, _, let latency):
            dialLatency.record(max(latency, .zero))
        case .attemptEnded(let report):
            attemptCounter(result: report.result.name, reason: Self.reasonLabel(report.result.reasonCode)).increment()
        case .finished(_, let status, _, _):
            finished[status]?.increment()
        case .notPlaced:
            notPlaced.increment()
        case .stepFailed:
            stepFailures.increment()
        default:
            break
        }
    }

    private func attemptCounter(result: String, reason: String) -> Prometheus.Counter {
        attemptSeries.withLock { series in
            let wanted = AttemptSeries(result: result, reason: reason)
            if let (last, counter) = series.last, last == wanted { return counter }
            let counter = series.made[wanted] ?? {
                let counter = registry.makeCounter(descriptor: Self.attemptsDescriptor, labels: [("result", result), ("reason", reason)])
                series.made[wanted] = counter
                return counter
            }()
            series.last = (wanted, counter)
            return counter
        }
    }

    /// Asterisk's codes are 0-8; anything else a server might send is folded into one series.
    static func reasonLabel(_ code: Int?) -> String {
        guard let code else { return "none" }
        return (0...8).contains(code) ? String(code) : "other"
    }

    public func record(_ queue: QueueSnapshot) {
        queueDue.set(Double(queue.due))
        queueScheduled.set(Double(queue.scheduled))
        inFlight.set(Double(queue.inFlight))
        backendReady.set(queue.backendReady ? 1.0 : 0.0)
        queueParked.set(Double(queue.parked))
        queueHeld.set(Double(queue.held))
        maxConcurrent.set(Double(queue.maxConcurrent))
    }

    public func record(_ connections: [ServerConnection]) {
        for connection in connections {
            registry.makeGauge(descriptor: Self.connectedDescriptor, labels: [("server", connection.name)])
                .set(connection.connected ? 1.0 : 0.0)
        }
    }

    public func recordHook(_ outcome: HookOutcome) {
        registry.makeCounter(descriptor: Self.hookDescriptor, labels: [("outcome", outcome.rawValue)]).increment()
    }

    func recordResultLogDrop() { resultLogDropped.increment() }
    func recordResultLogWriteErrors(_ lines: Int) { resultLogWriteErrors.increment(by: Int64(lines)) }

    /// The Prometheus text exposition format.
    public func render() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    /// Makes swift-metrics' global API publish into this registry too, so that metrics of libraries
    /// using `Counter(label:)` and friends appear on the same endpoint. Call once per process.
    public func bootstrapMetricsSystem() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }
}

/// One AMI server's connection state, as `spoold status` and the metrics show it.
public struct ServerConnection: Sendable, Equatable, Codable {
    /// `host:port`, or the server's name in the configuration.
    public var name: String
    public var connected: Bool

    public init(name: String, connected: Bool) {
        self.name = name
        self.connected = connected
    }
}

/// How one on_finish run ended.
public enum HookOutcome: String, Sendable {
    case ok
    /// Exited non-zero or was killed by a signal it did not get from spoold.
    case failed
    /// Ran past the timeout and was terminated.
    case timeout
    /// Could not be started at all.
    case spawnError = "spawn_error"
    /// Not run: the queue of waiting hooks was full.
    case dropped
}
