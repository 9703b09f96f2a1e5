#if canImport(Glibc)
import Glibc
#endif
import AMI
import ArgumentParser
import Logging
import ServiceLifecycle
import Spooler

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

    enum BackendKind: String, ExpressibleByArgument, CaseIterable {
        case ami, simulate
    }

    @Option(help: "The spool root; call files are read from its outgoing/ and archived to its outgoing_done/.")
    var spoolDir = "/var/spool/asterisk"

    @Option(help: "Where calls go: 'ami' (Asterisk's manager interface) or 'simulate' (the built-in PBX: channel Sim/<answer|busy|congestion|noanswer|failure>[/<ring-ms>[/<talk-ms>]]).")
    var backend: BackendKind = .ami

    @Option(help: "AMI host.")
    var amiHost = "127.0.0.1"

    @Option(help: "AMI port (5038, or 5039 with --ami-tls).")
    var amiPort: Int?

    @Option(help: "AMI user (manager.conf section).")
    var amiUser: String?

    @Option(help: "File holding the AMI secret (the secret itself never goes on the command line).")
    var amiSecretFile: String?

    @Flag(help: "Connect to AMI over TLS.")
    var amiTls = false

    @Flag(help: "Log in with the MD5 challenge, so the secret never crosses the wire.")
    var amiMd5 = false

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

    func validate() throws {
        guard maxConcurrent >= 0 else { throw ValidationError("--max-concurrent must be 0 (no limit) or more") }
        guard maxCps >= 0, maxCps.isFinite else { throw ValidationError("--max-cps must be 0 (no limit) or more") }
        if backend == .ami, amiUser == nil || amiSecretFile == nil {
            throw ValidationError("--backend ami needs --ami-user and --ami-secret-file (or use --backend simulate)")
        }
    }

    func run() async throws {
        let level = logLevel
        LoggingSystem.bootstrap { _ in StderrLogHandler(level: level) }
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
            finishAtAnswer: finishAtAnswer
        )
        var services: [any Service] = []
        let callBackend: any CallBackend
        switch backend {
        case .simulate:
            callBackend = SimulatedPBX(clock: SystemSpoolClock())
        case .ami:
            let client = AMIClient(configuration: try amiConfiguration(), logger: logger)
            callBackend = AMIBackend(client: client)
            // Listed first so that it is shut down last: calls in flight need the connection while the
            // engine drains.
            services.append(AMIClientService(client: client))
        }
        do {
            let spool = try SpoolService(
                configuration: configuration, backend: callBackend,
                watchMode: poll ? .polling(interval: .seconds(1)) : .inotify, logger: logger)
            services.append(spool)
        } catch {
            printError("spoold: cannot use \(configuration.outgoingPath): \(error)")
            throw ExitCode.failure
        }
        let group = ServiceGroup(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}

extension RunCommand {
    func amiConfiguration() throws -> AMIConfiguration {
        guard let user = amiUser, let secretFile = amiSecretFile else {
            throw ValidationError("--backend ami needs --ami-user and --ami-secret-file")
        }
        let secret: AMISecret
        do {
            secret = try SecretFile.read(secretFile)
        } catch {
            printError("spoold: \(error)")
            throw ExitCode.failure
        }
        var configuration = AMIConfiguration(
            host: amiHost, port: amiPort ?? (amiTls ? 5039 : 5038), username: user, secret: secret)
        configuration.tls = amiTls ? AMIConfiguration.TLS() : nil
        configuration.useMD5 = amiMd5
        return configuration
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
    StderrLogHandler.flush()  // after the log lines already logged, not before them
    var line = Array((message + "\n").utf8)
    _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
