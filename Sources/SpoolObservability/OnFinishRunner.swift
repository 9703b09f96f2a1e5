#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOPosix
import ServiceLifecycle
import Spooler
import Synchronization

/// Runs the administrator's on_finish command once per finished file, with the result in environment
/// variables only: call-file values never become part of a command line, so they cannot inject shell
/// syntax (the command string itself comes from spoold's flags or configuration, which the administrator
/// owns). At most `concurrency` run at once; each gets SIGTERM after `timeout` and SIGKILL `killGrace`
/// later. A hook's failure is logged and counted; it never changes anything about the file, which is
/// already archived or deleted when the hook starts.
///
/// Files waiting for a free worker queue up to `queueCapacity`; beyond that a file's hook is not run,
/// logged with the file's name and counted (`spoold_on_finish_runs_total{outcome="dropped"}`). At shutdown
/// queued hooks still run (each bounded by the timeout) before spoold exits.
public final class OnFinishRunner: Service, Sendable, CustomStringConvertible {
    public struct Configuration: Sendable {
        public static let defaultConcurrency = 4
        public static let defaultTimeout = Duration.seconds(30)

        public var command: String
        public var concurrency: Int
        public var timeout: Duration
        public var killGrace: Duration
        public var queueCapacity: Int
        /// Passed to `SPOOLD_SPOOL_DIR`, and the base of `SPOOLD_ARCHIVE`.
        public var spoolDirectory: String

        public init(command: String, spoolDirectory: String, concurrency: Int = defaultConcurrency,
                    timeout: Duration = defaultTimeout, killGrace: Duration = .seconds(5), queueCapacity: Int = 1000) {
            self.command = command
            self.spoolDirectory = spoolDirectory
            self.concurrency = concurrency
            self.timeout = timeout
            self.killGrace = killGrace
            self.queueCapacity = queueCapacity
        }
    }

    struct Job: Sendable {
        var result: FileResult
        var json: [UInt8]
    }

    public let configuration: Configuration
    private let queue: BoundedQueue<Job>
    private let metrics: SpoolMetrics?
    private let logger: Logger

    public init(configuration: Configuration, metrics: SpoolMetrics?, logger: Logger) {
        precondition(configuration.concurrency > 0)
        self.configuration = configuration
        self.queue = BoundedQueue(capacity: configuration.queueCapacity)
        self.metrics = metrics
        self.logger = logger
    }

    public var description: String { "OnFinishRunner(\(configuration.concurrency) at a time)" }

    /// Queues the hook for a finished file; `json` is its result-log line.
    public func submit(_ result: FileResult, json: [UInt8]) {
        switch queue.push(Job(result: result, json: json)) {
        case .queued, .finished:
            break
        case .full:
            metrics?.recordHook(.dropped)
            logger.error("[\(result.file)] on_finish not run: \(configuration.queueCapacity) hooks are already waiting for one of \(configuration.concurrency) workers")
        }
    }

    /// No more files: `run` runs what is queued and returns.
    public func finish() { queue.finish() }

    public func run() async throws {
        let pool = NIOThreadPool(numberOfThreads: configuration.concurrency)
        pool.start()
        await withDiscardingTaskGroup { group in
            for _ in 0..<configuration.concurrency {
                group.addTask {
                    while let job = await self.queue.pop() { await self.execute(job, pool: pool) }
                }
            }
        }
        try await pool.shutdownGracefully()
    }

    func execute(_ job: Job, pool: NIOThreadPool) async {
        let name = job.result.file
        let process: HookProcess
        do {
            process = try HookProcess.spawn(command: configuration.command, environment: environment(for: job))
        } catch {
            metrics?.recordHook(.spawnError)
            logger.error("[\(name)] on_finish could not be started: \(error)")
            return
        }
        let timedOut = Atomic<Bool>(false)
        let (timeout, killGrace, logger) = (configuration.timeout, configuration.killGrace, self.logger)
        let timer = Task {
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            timedOut.store(true, ordering: .relaxed)
            logger.warning("[\(name)] on_finish still runs after \(timeout): sending SIGTERM to its process group (pid \(process.pid))")
            process.signal(SIGTERM)
            guard (try? await Task.sleep(for: killGrace)) != nil else { return }
            logger.warning("[\(name)] on_finish ignored SIGTERM for \(killGrace): sending SIGKILL")
            process.signal(SIGKILL)
        }
        let status = await withTaskCancellationHandler {
            try? await pool.runIfActive { process.waitForExit() }
        } onCancel: {
            process.signal(SIGKILL)
        }
        timer.cancel()
        guard let status else {
            logger.error("[\(name)] on_finish (pid \(process.pid)) could not be waited for")
            return
        }
        switch HookProcess.Exit(waitStatus: status) {
        case .exited(0) where !timedOut.load(ordering: .relaxed):
            metrics?.recordHook(.ok)
            logger.debug("[\(name)] on_finish done")
        case let exit where timedOut.load(ordering: .relaxed):
            metrics?.recordHook(.timeout)
            logger.error("[\(name)] on_finish timed out after \(timeout) and was stopped (\(exit.description)); the file is not affected")
        case let exit:
            metrics?.recordHook(.failed)
            logger.error("[\(name)] on_finish failed: \(exit.description); the file is not affected")
        }
    }

    /// The hook's whole environment: a few variables a shell needs, passed through from spoold's own, and
    /// the result. Nothing else of spoold's environment (which may hold the AMI secret) is passed on.
    func environment(for job: Job) -> [String] {
        let result = job.result
        let last = result.attempts.last
        var values: [(String, String)] = []
        for key in Self.passedThrough {
            if let value = getenv(key) { values.append((key, String(cString: value))) }
        }
        if getenv("PATH") == nil { values.append(("PATH", "/usr/local/bin:/usr/bin:/bin")) }
        values += [
            ("SPOOLD_FILE", result.file),
            ("SPOOLD_STATUS", result.status.rawValue),
            ("SPOOLD_SUMMARY", result.summary),
            ("SPOOLD_DISPOSITION", result.dispositionName),
            ("SPOOLD_ARCHIVE", result.archiveName.map { configuration.spoolDirectory + "/outgoing_done/" + $0 } ?? ""),
            ("SPOOLD_CHANNEL", result.channel ?? ""),
            ("SPOOLD_ATTEMPTS", String(result.attemptCount)),
            ("SPOOLD_UNIQUEID", last?.channelId ?? ""),
            ("SPOOLD_REASON", last?.result.reasonCode.map(String.init) ?? ""),
            ("SPOOLD_REASON_TEXT", last?.result.text ?? ""),
            ("SPOOLD_SPOOL_DIR", configuration.spoolDirectory),
            ("SPOOLD_RESULT_JSON", String(decoding: job.json.dropLast(), as: UTF8.self)),
        ]
        // A NUL would end the C string early; call files cannot hold one, AMI replies might.
        return values.map { "\($0)=\($1.filter { $0 != "\0" })" }
    }

    static let passedThrough = ["PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ", "USER", "LOGNAME", "TMPDIR"]
}

extension HookProcess.Exit: CustomStringConvertible {
    var description: String {
        switch self {
        case .exited(let code): return "exit status \(code)"
        case .signalled(let number): return "killed by signal \(number)"
        }
    }
}
