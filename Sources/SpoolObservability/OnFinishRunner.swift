#if canImport(Glibc)
import Glibc
#endif
import ByteText
import Logging
import ServiceLifecycle
import Spooler

/// Runs the administrator's on_finish command once per finished file, with the result in environment
/// variables only: call-file values never become part of a command line, so they cannot inject shell
/// syntax (the command string itself comes from spoold's flags or configuration, which the administrator
/// owns). At most `concurrency` run at once; each runs in a process group of its own, which gets SIGTERM
/// after `timeout` and SIGKILL `killGrace` later (swift-subprocess's teardown sequence, see HookProcess).
/// A hook's failure is logged and counted; it never changes anything about the file, which is already
/// archived or deleted when the hook starts.
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
        /// Where the passed-through variables (`PATH`, `HOME`, `LANG`, ...) come from: spoold's own
        /// environment, read once here. Only the names in `OnFinishRunner.passedThrough` are used.
        public var inheritedEnvironment: [String: String]

        public init(command: String, spoolDirectory: String, concurrency: Int = defaultConcurrency,
                    timeout: Duration = defaultTimeout, killGrace: Duration = .seconds(5), queueCapacity: Int = 1000,
                    inheritedEnvironment: [String: String] = OnFinishRunner.currentEnvironment()) {
            self.command = command
            self.inheritedEnvironment = inheritedEnvironment
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
        await withDiscardingTaskGroup { group in
            for _ in 0..<configuration.concurrency {
                group.addTask {
                    while let job = await self.queue.pop() { await self.execute(job) }
                }
            }
        }
    }

    func execute(_ job: Job) async {
        let name = job.result.file
        let (timeout, killGrace, logger) = (configuration.timeout, configuration.killGrace, self.logger)
        let outcome: HookProcess.Outcome
        do {
            outcome = try await HookProcess.run(command: configuration.command, environment: environment(for: job),
                                                timeout: timeout, killGrace: killGrace) { pid in
                logger.warning("[\(name)] on_finish still runs after \(timeout): sending SIGTERM to its process group (pid \(pid)), SIGKILL \(killGrace) later")
            }
        } catch {
            metrics?.recordHook(.spawnError)
            logger.error("[\(name)] on_finish could not be run: \(error)")
            return
        }
        switch outcome {
        case .finished(.exited(0)):
            metrics?.recordHook(.ok)
            logger.debug("[\(name)] on_finish done")
        case .timedOut(let exit):
            metrics?.recordHook(.timeout)
            logger.error("[\(name)] on_finish timed out after \(timeout) and was stopped (\(exit.description)); the file is not affected")
        case .finished(let exit):
            metrics?.recordHook(.failed)
            logger.error("[\(name)] on_finish failed: \(exit.description); the file is not affected")
        case .cancelled(let exit):
            metrics?.recordHook(.failed)
            logger.error("[\(name)] on_finish was stopped with spoold (\(exit.description)); the file is not affected")
        }
    }

    /// The hook's whole environment, as `NAME=value` entries: a few variables a shell needs, passed
    /// through from spoold's own (`Configuration.inheritedEnvironment`), and the result. Nothing else of
    /// spoold's environment (which may hold the AMI secret) is passed on.
    func environment(for job: Job) -> [[UInt8]] {
        let result = job.result
        let last = result.attempts.last
        var values: [(String, String)] = []
        for key in Self.passedThrough {
            if let value = configuration.inheritedEnvironment[key] { values.append((key, value)) }
        }
        if configuration.inheritedEnvironment["PATH"] == nil { values.append(("PATH", "/usr/local/bin:/usr/bin:/bin")) }
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
        // Values go out as the bytes they stand for (a Channel that is not UTF-8 stays as it was in the
        // file). A NUL would end the C string early; call files cannot hold one, AMI replies might.
        return values.map { name, value in Array(name.utf8) + [UInt8(ascii: "=")] + ByteText.bytes(value).filter { $0 != 0 } }
    }

    /// The variables of spoold's own environment that `inheritedEnvironment` keeps by default.
    public static func currentEnvironment() -> [String: String] {
        var values: [String: String] = [:]
        for key in passedThrough {
            if let value = getenv(key) { values[key] = String(cString: value) }
        }
        return values
    }

    static let passedThrough = ["PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ", "USER", "LOGNAME", "TMPDIR"]
}
