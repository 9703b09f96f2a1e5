import Logging

/// Where one server's AMI secret comes from, once the layers and the environment are looked at.
public enum SecretSource: Sendable, Equatable, CustomStringConvertible {
    /// `secret` (or `ami_secret`) written in the configuration file.
    case configFile(path: String, line: Int?, SecretValue)
    /// `secret_file` (or `ami_secret_file`, `--ami-secret-file`): read when the server is used.
    case secretFile(path: String)
    /// `SPOOLD_AMI_SECRET_<NAME>` or `SPOOLD_AMI_SECRET`.
    case environment(variable: String, SecretValue)

    public var description: String {
        switch self {
        case .configFile(let path, let line, _): "secret in \(path)\(line.map { ":\($0)" } ?? "")"
        case .secretFile(let path): "secret file \(path)"
        case .environment(let variable, _): "environment variable \(variable)"
        }
    }
}

/// One AMI server, every value decided.
public struct AMIServerSettings: Sendable, Equatable {
    /// `default` for the server of `[general]`'s `ami_*` keys and the `--ami-*` flags.
    public var name: String
    public var host: String
    public var port: Int
    public var user: String
    public var secret: SecretSource
    public var tls: Bool
    public var md5: Bool
    public var weight: Int
    /// This server's own limits, on top of the global ones; 0 = none.
    public var maxConcurrent: Int
    public var maxCps: Double
    /// The manager port (`tcp`) or Asterisk's HTTP server (`http`, `/rawman`).
    public var transport: AMITransportKind = .tcp
    /// The raw-manager path on the HTTP server, with `transport` `http`.
    public var httpPrefix: String = SpooldSettings.Defaults.amiHttpPrefix
    /// With `tls`: the CA to trust (PEM), nil for the system's trust store.
    public var tlsCAFile: String? = nil
    /// With `tls`: the name the certificate must carry (and SNI), nil for `host`.
    public var tlsServerName: String? = nil
    /// With `tls`: whether the certificate is verified at all.
    public var tlsVerify: Bool = true
}

/// The settings `spoold run` works with: flags over the configuration file over the defaults.
public struct SpooldSettings: Sendable, Equatable {
    public var spoolDir: String
    public var backend: BackendKind
    public var maxConcurrent: Int
    public var maxCps: Double
    public var finishAtAnswer: Bool
    /// Sync records and renames to disk (`fsync`); off by default, as in Asterisk.
    public var fsync: Bool = false
    public var poll: Bool
    /// Wait for the spool lock (another spoold holds it) instead of exiting.
    public var standby: Bool = false
    public var logLevel: Logger.Level
    public var amiSelection: AMISelection
    /// In the order of the file: the failover order. Empty only with the simulate backend.
    public var amiServers: [AMIServerSettings]
    public var trunkLimits: [TrunkLimitSettings]
    public var amiTransport: AMITransportKind = Defaults.amiTransport
    public var amiHttpPrefix: String = Defaults.amiHttpPrefix
    /// nil: journald when stderr is systemd's journal stream, else plain.
    public var logFormat: LogFormatKind? = nil
    public var shutdownGrace: Double = Defaults.shutdownGrace
    public var metricsListen: String? = nil
    public var metricsAllowRemote: Bool = false
    public var resultLog: String? = nil
    public var onFinish: String? = nil
    public var onFinishConcurrency: Int = Defaults.onFinishConcurrency
    public var onFinishTimeout: Double = Defaults.onFinishTimeout
    /// `[window:PATTERN]` sections (file only), in file order.
    public var windows: [WindowSettings] = []
    /// `[retry:PATTERN]` sections (file only), in file order.
    public var retryRules: [RetrySettings] = []
    /// Seconds a call may be dialled after its due time; 0 = off.
    public var maxLateness: Int = 0

    /// The values used when neither a flag nor the file sets them. The limits match the engine's
    /// (`EngineConfiguration.defaultMaxConcurrent`, `.defaultMaxCallsPerSecond`; a test checks).
    public enum Defaults {
        public static let spoolDir = "/var/spool/asterisk"
        public static let backend = BackendKind.ami
        public static let maxConcurrent = 100
        public static let maxCps = 50.0
        public static let logLevel = Logger.Level.info
        public static let amiSelection = AMISelection.failover
        public static let amiTransport = AMITransportKind.tcp
        public static let amiHttpPrefix = "/rawman"
        public static let shutdownGrace = 10.0
        public static let onFinishConcurrency = 4
        public static let onFinishTimeout = 30.0
        public static let amiHost = "127.0.0.1"
        public static let amiPort = 5038
        public static let amiTLSPort = 5039
        public static let amiHTTPPort = 8088
        public static let amiHTTPSPort = 8089
        public static let weight = 1
        public static let configPath = "/etc/spoold/spoold.conf"
        /// The name of the single server given by `ami_*` keys or `--ami-*` flags.
        public static let singleServerName = "default"
    }

    public static let secretVariable = "SPOOLD_AMI_SECRET"

    /// `SPOOLD_AMI_SECRET_<NAME>`: the name upper-cased, `-` as `_`.
    public static func secretVariable(forServer name: String) -> String {
        secretVariable + "_" + String(name.uppercased().map { $0 == "-" ? "_" : $0 })
    }

    /// Merges the layers: a value given on the command line wins over the file's, which wins over the
    /// default. Errors name the file and line (or the flag) at fault.
    public static func resolve(
        commandLine: SettingsLayer, file: SettingsLayer?, environment: [String: String]
    ) -> Result<SpooldSettings, ConfigErrors> {
        let file = file ?? SettingsLayer(source: "")
        var errors: [ConfigError] = []
        let backend = commandLine.backend ?? file.backend ?? Defaults.backend
        var settings = SpooldSettings(
            spoolDir: commandLine.spoolDir ?? file.spoolDir ?? Defaults.spoolDir,
            backend: backend,
            maxConcurrent: commandLine.maxConcurrent ?? file.maxConcurrent ?? Defaults.maxConcurrent,
            maxCps: commandLine.maxCps ?? file.maxCps ?? Defaults.maxCps,
            finishAtAnswer: commandLine.finishAtAnswer ?? file.finishAtAnswer ?? false,
            fsync: commandLine.fsync ?? file.fsync ?? false,
            poll: commandLine.poll ?? file.poll ?? false,
            standby: commandLine.standby ?? file.standby ?? false,
            logLevel: commandLine.logLevel ?? file.logLevel ?? Defaults.logLevel,
            amiSelection: commandLine.amiSelection ?? file.amiSelection ?? Defaults.amiSelection,
            amiServers: [],
            // A --limit flag replaces the file's section for the same pattern; the others stay.
            trunkLimits: file.trunkLimits.filter { limit in !commandLine.trunkLimits.contains { $0.pattern == limit.pattern } }
                + commandLine.trunkLimits,
            amiTransport: commandLine.amiTransport ?? file.amiTransport ?? Defaults.amiTransport,
            amiHttpPrefix: commandLine.amiHttpPrefix ?? file.amiHttpPrefix ?? Defaults.amiHttpPrefix,
            logFormat: commandLine.logFormat ?? file.logFormat,
            shutdownGrace: commandLine.shutdownGrace ?? file.shutdownGrace ?? Defaults.shutdownGrace,
            metricsListen: commandLine.metricsListen ?? file.metricsListen,
            metricsAllowRemote: commandLine.metricsAllowRemote ?? file.metricsAllowRemote ?? false,
            resultLog: commandLine.resultLog ?? file.resultLog,
            onFinish: commandLine.onFinish ?? file.onFinish,
            onFinishConcurrency: commandLine.onFinishConcurrency ?? file.onFinishConcurrency ?? Defaults.onFinishConcurrency,
            onFinishTimeout: commandLine.onFinishTimeout ?? file.onFinishTimeout ?? Defaults.onFinishTimeout,
            windows: file.windows,
            retryRules: file.retryRules,
            maxLateness: commandLine.maxLateness ?? file.maxLateness ?? 0
        )

        if !file.amiSections.isEmpty {
            if !commandLine.ami.isEmpty {
                errors.append(ConfigError(
                    file: SettingsLayer.commandLine, line: nil, key: "--ami-*",
                    message: "\(file.source) defines its AMI servers in [ami:NAME] sections; change them there (the --ami-* flags describe a single server)"))
            }
            for section in file.amiSections {
                let where_ = Where(file: file.source, line: section.line, key: "[ami:\(section.name)]")
                var fields = section.fields
                fields.transport = fields.transport ?? settings.amiTransport
                fields.httpPrefix = fields.httpPrefix ?? settings.amiHttpPrefix
                if let server = resolveServer(name: section.name, fields: fields, weight: section.weight,
                                              maxConcurrent: section.maxConcurrent, maxCps: section.maxCps,
                                              origin: where_, secretFile: file.source, environment: environment, errors: &errors) {
                    settings.amiServers.append(server)
                }
            }
        } else {
            var fields = file.ami.overridden(by: commandLine.ami)
            if backend == .ami || !fields.isEmpty {
                fields.transport = settings.amiTransport
                fields.httpPrefix = settings.amiHttpPrefix
                let fromFile = commandLine.ami.user == nil && file.ami.user != nil
                let origin = fromFile
                    ? Where(file: file.source, line: file.generalLine, key: "ami_user")
                    : Where(file: SettingsLayer.commandLine, line: nil, key: "--ami-user")
                if let server = resolveServer(name: Defaults.singleServerName, fields: fields, weight: nil, maxConcurrent: nil, maxCps: nil,
                                              origin: origin, secretFile: file.source, environment: environment, errors: &errors) {
                    settings.amiServers.append(server)
                }
            }
        }
        guard errors.isEmpty else { return .failure(ConfigErrors(errors)) }
        return .success(settings)
    }

    struct Where {
        var file: String
        var line: Int?
        var key: String
    }

    private static func resolveServer(
        name: String, fields: AMIServerFields, weight: Int?, maxConcurrent: Int?, maxCps: Double?,
        origin: Where, secretFile: String, environment: [String: String], errors: inout [ConfigError]
    ) -> AMIServerSettings? {
        let single = name == Defaults.singleServerName && origin.key != "[ami:\(name)]"
        guard let user = fields.user else {
            let message = single
                ? "the ami backend needs an AMI user: set ami_user in [general] (or --ami-user), or describe servers in [ami:NAME] sections; --backend simulate needs none"
                : "needs user (the manager.conf section spoold logs in as)"
            errors.append(ConfigError(file: origin.file, line: origin.line, key: origin.key, message: message))
            return nil
        }
        let specific = secretVariable(forServer: name)
        let secret: SecretSource
        if let value = environment[specific], !value.isEmpty {
            secret = .environment(variable: specific, SecretValue(value))
        } else if let setting = fields.secret {
            switch setting {
            case .inline(let value, let line): secret = .configFile(path: secretFile, line: line, value)
            case .file(let path): secret = .secretFile(path: path)
            }
        } else if let value = environment[secretVariable], !value.isEmpty {
            secret = .environment(variable: secretVariable, SecretValue(value))
        } else {
            let keys = single ? "ami_secret_file (or --ami-secret-file) or ami_secret" : "secret_file or secret"
            errors.append(ConfigError(
                file: origin.file, line: origin.line, key: single ? "ami_secret" : origin.key,
                message: "no AMI secret for server \(name): set \(keys), or \(specific) or \(secretVariable) in the environment"))
            return nil
        }
        let tls = fields.tls ?? false
        if !tls {
            // Settings for a TLS that is not used: the administrator believes the link is checked.
            let unused = [("tls_ca_file", fields.tlsCAFile != nil), ("tls_server_name", fields.tlsServerName != nil),
                          ("tls_verify", fields.tlsVerify != nil)].filter { $0.1 }.map { single ? "ami_" + $0.0 : $0.0 }
            if !unused.isEmpty {
                errors.append(ConfigError(
                    file: origin.file, line: origin.line, key: origin.key,
                    message: "\(unused.joined(separator: ", ")) set for server \(name), but TLS is off; set \(single ? "ami_tls" : "tls") = yes (or remove \(unused.count == 1 ? "it" : "them"))"))
                return nil
            }
        }
        let transport = fields.transport ?? Defaults.amiTransport
        let defaultPort = switch transport {
        case .tcp: tls ? Defaults.amiTLSPort : Defaults.amiPort
        case .http: tls ? Defaults.amiHTTPSPort : Defaults.amiHTTPPort
        }
        return AMIServerSettings(
            name: name, host: fields.host ?? Defaults.amiHost, port: fields.port ?? defaultPort,
            user: user, secret: secret, tls: tls, md5: fields.md5 ?? false, weight: weight ?? Defaults.weight,
            maxConcurrent: maxConcurrent ?? 0, maxCps: maxCps ?? 0, transport: transport,
            httpPrefix: fields.httpPrefix ?? Defaults.amiHttpPrefix, tlsCAFile: fields.tlsCAFile,
            tlsServerName: fields.tlsServerName, tlsVerify: fields.tlsVerify ?? true)
    }
}
