#if canImport(Glibc)
import Glibc
#endif
import AMI
import ArgumentParser
import LogFormats
import Logging
import NIOCore
import ServiceLifecycle
import SpoolControl
import SpoolObservability
import Spooler
import SpoolerAMI
import SpooldConfig
import UnixSignals

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Processes the call files in <spool-dir>/outgoing, as Asterisk's spool would.",
        discussion: """
            Files are due at their mtime, dialled through the backend, retried by their MaxRetries and \
            RetryTime, then archived to <spool-dir>/outgoing_done or deleted with their Status. Logs go to \
            stderr. SIGTERM or SIGINT stops new attempts and waits up to --shutdown-grace seconds for calls in flight; SIGHUP reloads. Under systemd (Type=notify) it reports READY, STATUS, WATCHDOG, RELOADING and STOPPING.
            """
    )

    @Option(help: "The configuration file (Asterisk .conf format, see docs/configuration.md); default \(SpooldSettings.Defaults.configPath) when it exists. Flags win over it.")
    var config: String?

    @Flag(help: "Check the configuration (file, flags, secrets), print a summary and exit: 0 valid, 1 not (errors as file:line: key: message).")
    var checkConfig = false

    @Option(help: "The spool root; call files are read from its outgoing/ and archived to its outgoing_done/ (default \(SpooldSettings.Defaults.spoolDir); spool_dir).")
    var spoolDir: String?

    @Option(help: "Where calls go: 'ami' (Asterisk's manager interface, the default) or 'simulate' (the built-in PBX: channel Sim/<answer|busy|congestion|noanswer|failure>[/<ring-ms>[/<talk-ms>]]); backend.")
    var backend: BackendKind?

    @OptionGroup(title: "AMI connection (one server; the configuration file can list several)")
    var ami: AMIConnectionOptions

    @Option(help: "With several [ami:NAME] servers: 'failover' (first one up, the default) or 'spread' (by weight); ami_selection.")
    var amiSelection: AMISelection?

    @Option(help: "At most this many calls in flight, from Originate until the attempt ends (0 = no limit; default \(EngineConfiguration.defaultMaxConcurrent); max_concurrent).")
    var maxConcurrent: Int?

    @Option(help: "At most this many new Originates per second (0 = no limit; default \(Int(EngineConfiguration.defaultMaxCallsPerSecond)); max_cps).")
    var maxCps: Double?

    @Option(name: .customLong("limit"), help: ArgumentHelp("Limits for the calls whose Channel matches a glob, on top of the global ones, as PATTERN=MAX_CONCURRENT[,MAX_CPS] (0 = no limit); repeatable; replaces the [limit:PATTERN] section of the same pattern.", valueName: "pattern=n[,cps]"))
    var limits: [String] = []

    @Flag(inversion: .prefixedNo, help: "Finish a call (Completed) when it is answered instead of when it hangs up (finish_at_answer; default no).")
    var finishAtAnswer: Bool?

    @Flag(inversion: .prefixedNo, help: "Sync each call file to disk after each record spoold writes (retry records, Status line, a rewritten file) and its directories after each rename, so that they survive a power loss; costs throughput (fsync; default no, as in Asterisk).")
    var fsync: Bool?

    @Flag(inversion: .prefixedNo, help: "Poll outgoing/ every second instead of using inotify, for spools on NFS (poll; default no).")
    var poll: Bool?

    @Flag(inversion: .prefixedNo, help: "When another spoold holds the spool, wait and take over as soon as it ends or dies (calls in flight recovered as after a crash) instead of exiting (standby; default no).")
    var standby: Bool?

    @Option(help: "trace, debug, info, notice, warning or error (default info; log_level).")
    var logLevel: Logger.Level?

    @Option(help: "plain (timestamped lines), journald (<N> priority prefixes, no timestamp) or json (one object per line). Default: journald when stderr is systemd's journal stream, else plain.")
    var logFormat: LogFormat?

    @Option(help: "On SIGTERM, seconds that calls in flight get to end before spoold exits anyway (they are recovered at the next start; default 10; shutdown_grace).")
    var shutdownGrace: Double?

    @OptionGroup(title: "Metrics, status, result log and on_finish hook")
    var observability: ObservabilityOptions

    func validate() throws {
        if let maxConcurrent, maxConcurrent < 0 { throw ValidationError("--max-concurrent must be 0 (no limit) or more") }
        if let maxCps, !(maxCps >= 0 && maxCps.isFinite) { throw ValidationError("--max-cps must be 0 (no limit) or more") }
        if let amiPort = ami.amiPort, !(1...65535).contains(amiPort) { throw ValidationError("--ami-port must be from 1 to 65535") }
        if let spoolDir, spoolDir.isEmpty { throw ValidationError("--spool-dir must not be empty") }
        if let shutdownGrace, !(0...86_400).contains(shutdownGrace) {
            throw ValidationError("--shutdown-grace must be between 0 and 86400 seconds")
        }
        for limit in limits {
            do throws(ConfigError) {
                _ = try TrunkLimitSettings(flag: limit)
            } catch {
                throw ValidationError("\(error.key) \(error.message)")
            }
        }
    }

    func run() async throws {
        // One event loop for the process's sockets (AMI, the control socket, metrics): the main thread's
        // (`SpooldMain`, passed to each below). Should some code still reach for NIO's singleton group,
        // it gets one loop rather than one per core: a TCP connection lives on one loop anyway.
        NIOSingletons.groupLoopCountSuggestion = 1
        let (loaded, callingRules) = try loadConfiguration()
        let settings = loaded.settings
        let liveLevel = LiveLogLevel(settings.logLevel)
        let format = settings.logFormat.flatMap { LogFormat(rawValue: $0.rawValue) } ?? LogFormat.automatic()
        LoggingSystem.bootstrap { _ in format.makeHandler(level: liveLevel) }
        let logger = Logger(label: "spoold")
        for warning in loaded.warnings { logger.warning("\(warning)") }

        // Trapped before anything waits or starts (the standby included), so that a SIGHUP reloads rather
        // than kills; one that comes during a standby is answered after the takeover.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        guard let lock = try await acquireSpoolLock(spoolDirectory: settings.spoolDir, standby: settings.standby, logger: logger) else {
            return  // SIGTERM or SIGINT while in standby: nothing was taken over
        }
        defer { withExtendedLifetime(lock) {} }

        var configuration = settings.engineConfiguration(callingRules: callingRules)
        configuration.shutdownGrace = .milliseconds(Int64(settings.shutdownGrace * 1000))
        if settings.fsync {
            configuration.diskSync = .on { error in
                logger.warning("fsync: \(error); the rename was done, but may not survive a power loss")
            }
            logger.info("fsync = yes: each record and each rename is synced to disk")
        }
        var services: [any Service] = []
        let callBackend: any CallBackend
        var connectionStates: @Sendable () -> [ServerConnection] = { [] }
        switch settings.backend {
        case .simulate:
            callBackend = SimulatedPBX(clock: SystemSpoolClock())
        case .ami:
            // Every server, TCP or HTTP, in one pool.
            let pool = try loaded.serverPool(selection: amiSelection, logger: logger)
            callBackend = pool
            connectionStates = { pool.status().map { ServerConnection(name: $0.name, connected: $0.connected) } }
            // Listed first so that they are shut down last: calls in flight need their connection while
            // the engine drains.
            services.append(contentsOf: pool.services)
        }
        // The engine's one event stream, passed on to its two readers: systemd (ready, status) and
        // observability (metrics, status file, result log, hook).
        let (events, eventInput) = AsyncStream.makeStream(of: [EngineEvent].self)
        let (systemdEvents, systemdInput) = AsyncStream.makeStream(
            of: [EngineEvent].self, bufferingPolicy: .bufferingNewest(256))
        let (observedEvents, observedInput) = AsyncStream.makeStream(of: [EngineEvent].self)
        let fanOut = EventFanOut(source: events, sinks: [systemdInput, observedInput])
        let spool: SpoolService
        do {
            spool = try SpoolService(
                configuration: configuration, backend: callBackend,
                watchMode: settings.poll ? .polling(interval: .seconds(1)) : .inotify, logger: logger, events: eventInput)
            services.append(spool)
            // After the engine in the list, so stopped before it: no request comes in while it drains.
            do {
                services.append(try await ControlSocketService.bind(
                    spoolDirectory: settings.spoolDir, outgoingPath: configuration.outgoingPath,
                    respond: ControlSocketService.responder(for: spool.engine), group: ProcessEventLoop.group))
            } catch {
                logger.error("queue control is not available: cannot listen on \(ControlSocketService.path(spoolDirectory: settings.spoolDir)): \(error); spoold queue, cancel and reschedule will say no spoold answers")
            }
            let reloader = ConfigReloader(loaded: loaded, callingRules: callingRules, configFlag: config, commandLine: commandLineLayer,
                                          engine: spool.engine, logLevel: liveLevel, logger: logger)
            services += systemdServices(engine: spool.engine, events: systemdEvents, hangups: hangups, logger: logger) {
                _ = await reloader.reload()
            }
        } catch {
            printError("spoold: cannot use \(configuration.outgoingPath): \(error)")
            throw ExitCode.failure
        }
        let readers = try await observability.services(
            settings: settings, events: observedEvents, engine: spool.engine, connections: connectionStates,
            logger: logger)
        // First in the list, so stopped last: after the engine's drain, whose events they still take in.
        services.insert(EngineEventReaders(parts: [fanOut] + readers), at: 0)
        let group = ServiceGroup(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}

func printError(_ message: String) {
    LogWriter.standardError.flush()  // after the log lines already logged, not before them
    var line = Array((message + "\n").utf8)
    _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
