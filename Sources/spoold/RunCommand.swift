#if canImport(Glibc)
import Glibc
#endif
import AMI
import ArgumentParser
import Logging
import ServiceLifecycle
import Spooler
import SpooldConfig

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Processes the call files in <spool-dir>/outgoing, as Asterisk's spool would.",
        discussion: """
            Files are due at their mtime, dialled through the backend, retried by their MaxRetries and \
            RetryTime, then archived to <spool-dir>/outgoing_done or deleted with their Status. Logs go to \
            stderr. SIGTERM or SIGINT stops new attempts and waits up to 10 s for calls in flight.
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

    @Option(help: "AMI host (default \(SpooldSettings.Defaults.amiHost); ami_host).")
    var amiHost: String?

    @Option(help: "AMI port (5038, or 5039 with --ami-tls; ami_port).")
    var amiPort: Int?

    @Option(help: "AMI user (manager.conf section; ami_user).")
    var amiUser: String?

    @Option(help: "File holding the AMI secret (ami_secret_file). The secret itself never goes on the command line: use the file, the configuration or SPOOLD_AMI_SECRET.")
    var amiSecretFile: String?

    @Flag(inversion: .prefixedNo, help: "Connect to AMI over TLS (ami_tls; default no).")
    var amiTls: Bool?

    @Flag(inversion: .prefixedNo, help: "Log in with the MD5 challenge, so the secret never crosses the wire (ami_md5; default no).")
    var amiMd5: Bool?

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

    @Flag(inversion: .prefixedNo, help: "Poll outgoing/ every second instead of using inotify, for spools on NFS (poll; default no).")
    var poll: Bool?

    @Option(help: "trace, debug, info, notice, warning or error (default info; log_level).")
    var logLevel: Logger.Level?

    func validate() throws {
        if let maxConcurrent, maxConcurrent < 0 { throw ValidationError("--max-concurrent must be 0 (no limit) or more") }
        if let maxCps, !(maxCps >= 0 && maxCps.isFinite) { throw ValidationError("--max-cps must be 0 (no limit) or more") }
        if let amiPort, !(1...65535).contains(amiPort) { throw ValidationError("--ami-port must be from 1 to 65535") }
        if let spoolDir, spoolDir.isEmpty { throw ValidationError("--spool-dir must not be empty") }
        for limit in limits {
            do throws(ConfigError) {
                _ = try TrunkLimitSettings(flag: limit)
            } catch {
                throw ValidationError("\(error.key) \(error.message)")
            }
        }
    }

    func run() async throws {
        let loaded = try loadConfiguration()
        let settings = loaded.settings
        let liveLevel = LiveLogLevel(settings.logLevel)
        LoggingSystem.bootstrap { _ in LiveLevelLogHandler(StderrLogHandler(level: .trace), level: liveLevel) }
        let logger = Logger(label: "spoold")
        for warning in loaded.warnings { logger.warning("\(warning)") }

        let lock: SpoolLock
        do {
            lock = try SpoolLock(spoolDirectory: settings.spoolDir)
        } catch {
            printError("spoold: \(error)")
            throw ExitCode.failure
        }
        defer { withExtendedLifetime(lock) {} }

        let configuration = settings.engineConfiguration
        var services: [any Service] = []
        let callBackend: any CallBackend
        switch settings.backend {
        case .simulate:
            callBackend = SimulatedPBX(clock: SystemSpoolClock())
        case .ami:
            let client = AMIClient(configuration: try loaded.firstServerConfiguration(logger: logger), logger: logger)
            callBackend = AMIBackend(client: client)
            // Listed first so that it is shut down last: calls in flight need the connection while the
            // engine drains.
            services.append(AMIClientService(client: client))
        }
        let spool: SpoolService
        do {
            spool = try SpoolService(
                configuration: configuration, backend: callBackend,
                watchMode: settings.poll ? .polling(interval: .seconds(1)) : .inotify, logger: logger)
            services.append(spool)
        } catch {
            printError("spoold: cannot use \(configuration.outgoingPath): \(error)")
            throw ExitCode.failure
        }
        // Trapped before the group starts, so that a SIGHUP right after "spoold ready" reloads rather than kills.
        let reloader = ConfigReloader(loaded: loaded, configFlag: config, commandLine: commandLineLayer,
                                      engine: spool.engine, logLevel: liveLevel, logger: logger)
        services.append(await ReloadOnHangUpService(reloader: reloader))
        let group = ServiceGroup(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}

/// Keeps the AMI connection up (with reconnects) until a graceful shutdown.
struct AMIClientService: Service, CustomStringConvertible {
    let client: AMIClient
    var description: String { "AMIClient(\(client.configuration.host):\(client.configuration.port))" }

    func run() async throws {
        let client = self.client
        try await cancelWhenGracefulShutdown {
            try await client.run()
        }
    }
}

func printError(_ message: String) {
    var line = Array((message + "\n").utf8)
    _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
