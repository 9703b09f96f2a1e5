#if canImport(Glibc)
import Glibc
#endif
import AMI
import ArgumentParser
import LogFormats
import Logging
import ServiceLifecycle
import SpoolObservability
import Spooler

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

    enum BackendKind: String, ExpressibleByArgument, CaseIterable {
        case ami, simulate
    }

    @Option(help: "The spool root; call files are read from its outgoing/ and archived to its outgoing_done/.")
    var spoolDir = "/var/spool/asterisk"

    @Option(help: "Where calls go: 'ami' (Asterisk's manager interface) or 'simulate' (the built-in PBX: channel Sim/<answer|busy|congestion|noanswer|failure>[/<ring-ms>[/<talk-ms>]]).")
    var backend: BackendKind = .ami

    @OptionGroup(title: "AMI connection")
    var ami: AMIConnectionOptions

    @Option(help: "At most this many calls in flight, from Originate until the attempt ends (0 = no limit).")
    var maxConcurrent = EngineConfiguration.defaultMaxConcurrent

    @Option(help: "At most this many new Originates per second (0 = no limit).")
    var maxCps = EngineConfiguration.defaultMaxCallsPerSecond

    @Flag(help: "Finish a call (Completed) when it is answered instead of when it hangs up.")
    var finishAtAnswer = false

    @Flag(help: "Poll outgoing/ every second instead of using inotify (for spools on NFS).")
    var poll = false

    @Option(help: "trace, debug, info, notice, warning or error.")
    var logLevel: Logger.Level = .info

    @Option(help: "plain (timestamped lines), journald (<N> priority prefixes, no timestamp) or json (one object per line). Default: journald when stderr is systemd's journal stream, else plain.")
    var logFormat: LogFormat?

    @Option(help: "On SIGTERM, seconds that calls in flight get to end before spoold exits anyway (they are recovered at the next start).")
    var shutdownGrace: Double = 10

    @OptionGroup(title: "Metrics, status, result log and on_finish hook")
    var observability: ObservabilityOptions

    func validate() throws {
        guard maxConcurrent >= 0 else { throw ValidationError("--max-concurrent must be 0 (no limit) or more") }
        guard maxCps >= 0, maxCps.isFinite else { throw ValidationError("--max-cps must be 0 (no limit) or more") }
        guard shutdownGrace >= 0, shutdownGrace <= 86_400 else {
            throw ValidationError("--shutdown-grace must be between 0 and 86400 seconds")
        }
        if backend == .ami, !ami.hasCredentials {
            throw ValidationError("--backend ami needs --ami-user and --ami-secret-file (or use --backend simulate)")
        }
    }

    func run() async throws {
        let level = logLevel
        let format = logFormat ?? LogFormat.automatic()
        LoggingSystem.bootstrap { _ in format.makeHandler(level: level) }
        let logger = Logger(label: "spoold")

        let lock: SpoolLock
        do {
            lock = try SpoolLock(spoolDirectory: spoolDir)
        } catch {
            printError("spoold: \(error)")
            throw ExitCode.failure
        }
        defer { withExtendedLifetime(lock) {} }

        let configuration = EngineConfiguration(
            spoolDirectory: spoolDir,
            maxConcurrent: maxConcurrent,
            maxCallsPerSecond: maxCps,
            finishAtAnswer: finishAtAnswer,
            shutdownGrace: .milliseconds(Int64(shutdownGrace * 1000))
        )
        var services: [any Service] = []
        let callBackend: any CallBackend
        var connectionStates: @Sendable () -> [ServerConnection] = { [] }
        switch backend {
        case .simulate:
            callBackend = SimulatedPBX(clock: SystemSpoolClock())
        case .ami:
            let client = makeAMIConnection(configuration: try amiConfiguration(), logger: logger)
            callBackend = AMIBackend(client: client)
            let server = "\(client.configuration.host):\(client.configuration.port)"
            connectionStates = { [ServerConnection(name: server, connected: client.isConnected)] }
            // Listed first so that it is shut down last: calls in flight need the connection while the
            // engine drains.
            services.append(AMIClientService(client: client))
        }
        // The engine's one event stream, passed on to its two readers: systemd (ready, status) and
        // observability (metrics, status file, result log, hook).
        let (events, eventInput) = AsyncStream.makeStream(of: EngineEvent.self)
        let (systemdEvents, systemdInput) = AsyncStream.makeStream(
            of: EngineEvent.self, bufferingPolicy: .bufferingNewest(256))
        let (observedEvents, observedInput) = AsyncStream.makeStream(of: EngineEvent.self)
        services.insert(EventFanOut(source: events, sinks: [systemdInput, observedInput]), at: 0)
        let spool: SpoolService
        do {
            spool = try SpoolService(
                configuration: configuration, backend: callBackend,
                watchMode: poll ? .polling(interval: .seconds(1)) : .inotify, logger: logger, events: eventInput)
            services.append(spool)
            services += systemdServices(engine: spool.engine, events: systemdEvents, logger: logger) {
                logger.notice("SIGHUP: this build has no configuration file to re-read; the flags stay as they are")
            }
        } catch {
            printError("spoold: cannot use \(configuration.outgoingPath): \(error)")
            throw ExitCode.failure
        }
        services = try await observability.services(
            events: observedEvents, engine: spool.engine, spoolDirectory: spoolDir, backend: backend.rawValue,
            connections: connectionStates, logger: logger) + services
        let group = ServiceGroup(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}

extension RunCommand {
    func amiConfiguration() throws -> AMIConfiguration {
        do {
            return try ami.configuration()
        } catch {
            printError("spoold: \(error)")
            throw ExitCode.failure
        }
    }
}

/// Keeps the AMI connection up (with reconnects) until a graceful shutdown.
struct AMIClientService: Service, CustomStringConvertible {
    let client: any AMIConnection
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
