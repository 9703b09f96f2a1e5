#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SpoolObservability
import Spooler
import SpooldConfig

/// `spoold run`'s flags for metrics, the result log and the on_finish hook. Their configuration-file keys
/// are the flag names with underscores (metrics_listen, result_log, on_finish, ...); optional, so that only
/// flags actually given override the file.
struct ObservabilityOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Serve Prometheus metrics at http://ADDR/metrics and the status at /status.",
        discussion: "HOST:PORT, [IPV6]:PORT or a bare PORT (on 127.0.0.1); port 0 picks a free one. Loopback only unless --metrics-allow-remote.",
        valueName: "addr:port"))
    var metricsListen: String?

    @Flag(inversion: .prefixedNo, help: "Allow --metrics-listen on a non-loopback address (the figures carry no secrets, but no file names either way; protect it with a firewall).")
    var metricsAllowRemote: Bool?

    @Option(help: ArgumentHelp("Append one JSON line per finished call file to this file.", valueName: "file"))
    var resultLog: String?

    @Option(help: ArgumentHelp(
        "Run this command with /bin/sh -c for each finished call file.",
        discussion: "The result is in environment variables only (SPOOLD_FILE, SPOOLD_STATUS, SPOOLD_CHANNEL, SPOOLD_ATTEMPTS, SPOOLD_RESULT_JSON, ...); quote them (\"$SPOOLD_FILE\") in the command.",
        valueName: "command"))
    var onFinish: String?

    @Option(help: "At most this many on_finish commands run at once (default \(OnFinishRunner.Configuration.defaultConcurrency)).")
    var onFinishConcurrency: Int?

    @Option(help: "Seconds an on_finish command may run before it gets SIGTERM (SIGKILL 5 s later; default 30).")
    var onFinishTimeout: Double?

    func validate() throws {
        if let metricsListen {
            do {
                // The loopback rule is checked once the file's metrics_allow_remote is known too.
                _ = try ListenAddress.parse(metricsListen, allowRemote: true)
            } catch {
                throw ValidationError("--metrics-listen: \(error)")
            }
        }
        if let onFinishConcurrency, onFinishConcurrency < 1 { throw ValidationError("--on-finish-concurrency must be 1 or more") }
        if let onFinishTimeout, !(onFinishTimeout > 0 && onFinishTimeout.isFinite) {
            throw ValidationError("--on-finish-timeout must be a positive number of seconds")
        }
        if let onFinish, onFinish.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--on-finish must not be empty")
        }
        if resultLog?.isEmpty == true { throw ValidationError("--result-log must name a file") }
    }

    /// Everything observability needs to run, as services to list before the AMI client and the spool, so
    /// that they are shut down after them (see `ObservabilityService`). Binds the metrics endpoint and checks
    /// the result log now, so that a taken port or a wrong path stops `spoold run` at once.
    func services(
        settings: SpooldSettings, events: AsyncStream<[EngineEvent]>, engine: SpoolEngine,
        connections: @escaping @Sendable () -> [ServerConnection], logger: Logger
    ) async throws -> [any Service] {
        // The flags are merged into `settings` (flags over the file): read everything from there.
        let spoolDirectory = settings.spoolDir, backend = settings.backend.rawValue
        let (metricsListen, resultLog, onFinish) = (settings.metricsListen, settings.resultLog, settings.onFinish)
        let clock = SystemSpoolClock()
        let started = clock.now()
        let metrics = SpoolMetrics(started: started)
        metrics.bootstrapMetricsSystem()
        let board = StatusBoard(StatusSnapshot(
            pid: Int(getpid()), spoolDirectory: spoolDirectory, backend: backend,
            startedAt: Double(started.nanoseconds) / 1e9, resultLog: resultLog))
        var services: [any Service] = []
        if let metricsListen {
            let address: ListenAddress
            do {
                address = try ListenAddress.parse(metricsListen, allowRemote: settings.metricsAllowRemote)
            } catch {
                printError("spoold: metrics_listen: \(error)")
                throw ExitCode.failure
            }
            let server: MetricsHTTPServer
            do {
                server = try await MetricsHTTPServer.bind(address, metrics: metrics, status: board, group: ProcessEventLoop.group)
            } catch {
                printError("spoold: cannot listen on \(address) for metrics: \(error)")
                throw ExitCode.failure
            }
            board.setMetricsAddress(server.address.description)
            logger.notice("metrics at http://\(server.address)/metrics, status at http://\(server.address)/status")
            services.append(server)
        }
        var writer: ResultLogWriter?
        if let resultLog {
            do {
                try ResultLogWriter.checkWritable(resultLog)
            } catch {
                printError("spoold: --result-log: \(error)")
                throw ExitCode.failure
            }
            writer = ResultLogWriter(path: resultLog, metrics: metrics, logger: logger)
            services.append(writer!)
        }
        var hooks: OnFinishRunner?
        if let onFinish {
            let timeout = Duration.milliseconds(Int64((settings.onFinishTimeout * 1000).rounded()))
            hooks = OnFinishRunner(
                configuration: .init(command: onFinish, spoolDirectory: spoolDirectory,
                                     concurrency: settings.onFinishConcurrency, timeout: timeout),
                metrics: metrics, logger: logger)
            services.append(hooks!)
        }
        services.append(ObservabilityService(
            events: events, queue: { await engine.queueSnapshot() }, connections: connections,
            metrics: metrics, board: board, resultLog: writer, hooks: hooks,
            statusFile: StatusFile(spoolDirectory: spoolDirectory), clock: clock, logger: logger))
        return services
    }
}
