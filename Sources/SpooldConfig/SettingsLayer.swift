import Logging

public enum BackendKind: String, Sendable, CaseIterable {
    case ami, simulate
}

/// How calls are shared between several AMI servers.
public enum AMISelection: String, Sendable, CaseIterable {
    /// Every call to the first server that is up, in the order of the file.
    case failover
    /// Calls shared between the servers that are up, in proportion to their weight.
    case spread
}

/// How AMI is reached: the manager port, or Asterisk's HTTP server (`/rawman`) where only HTTP(S) is open.
public enum AMITransportKind: String, Sendable, CaseIterable {
    case tcp, http
}

/// How log lines are written: `plain` (timestamped), `journald` (`<N>` priority prefixes) or `json`.
public enum LogFormatKind: String, Sendable, CaseIterable {
    case plain, journald, json
}

/// Where an AMI secret is written in one layer: inline in the configuration file, or in a file of its own.
public enum SecretSetting: Sendable, Equatable {
    case inline(SecretValue, line: Int?)
    case file(String)
}

/// The settings of one AMI server as one layer (file section or flags) gives them; nil = not set there.
public struct AMIServerFields: Sendable, Equatable {
    public var host: String?
    public var port: Int?
    public var user: String?
    public var secret: SecretSetting?
    public var tls: Bool?
    public var md5: Bool?
    /// The PEM file of the CA that signed the server's certificate (`tls_ca_file`).
    public var tlsCAFile: String?
    /// The name the server's certificate must carry when it is not `host` (`tls_server_name`).
    public var tlsServerName: String?
    /// Whether the certificate is verified (`tls_verify`, on by default).
    public var tlsVerify: Bool?
    /// The manager port or Asterisk's HTTP server (`transport`); `ami_transport` when not set.
    public var transport: AMITransportKind?
    /// The raw-manager path on the HTTP server (`http_prefix`); `ami_http_prefix` when not set.
    public var httpPrefix: String?

    public init(host: String? = nil, port: Int? = nil, user: String? = nil, secret: SecretSetting? = nil,
                tls: Bool? = nil, md5: Bool? = nil, tlsCAFile: String? = nil, tlsServerName: String? = nil,
                tlsVerify: Bool? = nil, transport: AMITransportKind? = nil, httpPrefix: String? = nil) {
        self.host = host
        self.port = port
        self.user = user
        self.secret = secret
        self.tls = tls
        self.md5 = md5
        self.tlsCAFile = tlsCAFile
        self.tlsServerName = tlsServerName
        self.tlsVerify = tlsVerify
        self.transport = transport
        self.httpPrefix = httpPrefix
    }

    public var isEmpty: Bool { self == AMIServerFields() }

    /// Field by field, `top`'s values win.
    public func overridden(by top: AMIServerFields) -> AMIServerFields {
        AMIServerFields(host: top.host ?? host, port: top.port ?? port, user: top.user ?? user,
                        secret: top.secret ?? secret, tls: top.tls ?? tls, md5: top.md5 ?? md5,
                        tlsCAFile: top.tlsCAFile ?? tlsCAFile, tlsServerName: top.tlsServerName ?? tlsServerName,
                        tlsVerify: top.tlsVerify ?? tlsVerify, transport: top.transport ?? transport,
                        httpPrefix: top.httpPrefix ?? httpPrefix)
    }
}

/// An `[ami:NAME]` section.
public struct AMIServerSection: Sendable, Equatable {
    public var name: String
    public var line: Int
    public var fields: AMIServerFields
    public var weight: Int?
    public var maxConcurrent: Int?
    public var maxCps: Double?

    public init(name: String, line: Int, fields: AMIServerFields = AMIServerFields(), weight: Int? = nil,
                maxConcurrent: Int? = nil, maxCps: Double? = nil) {
        self.name = name
        self.line = line
        self.fields = fields
        self.weight = weight
        self.maxConcurrent = maxConcurrent
        self.maxCps = maxCps
    }
}

/// A `[limit:PATTERN]` section: limits for the calls whose Channel matches the glob `pattern`.
public struct TrunkLimitSettings: Sendable, Equatable {
    public var pattern: String
    /// 0 = no limit.
    public var maxConcurrent: Int
    /// 0 = no limit.
    public var maxCps: Double

    public init(pattern: String, maxConcurrent: Int, maxCps: Double) {
        self.pattern = pattern
        self.maxConcurrent = maxConcurrent
        self.maxCps = maxCps
    }
}

/// What one source says: the configuration file, or the flags given on the command line. Every value is
/// optional so that "not given" can be told from "given as the default" when layers are merged.
public struct SettingsLayer: Sendable, Equatable {
    /// The file's path, or `command line`.
    public var source: String
    public var spoolDir: String?
    public var backend: BackendKind?
    public var maxConcurrent: Int?
    public var maxCps: Double?
    public var finishAtAnswer: Bool?
    public var fsync: Bool?
    public var poll: Bool?
    /// Wait for the spool lock instead of exiting when another spoold holds it.
    public var standby: Bool?
    public var logLevel: Logger.Level?
    public var amiSelection: AMISelection?
    public var amiTransport: AMITransportKind?
    /// The path of AMI's raw encoding on the HTTP server (`/rawman`), with `ami_transport = http`.
    public var amiHttpPrefix: String?
    public var logFormat: LogFormatKind?
    /// Seconds calls in flight get to end after SIGTERM.
    public var shutdownGrace: Double?
    public var metricsListen: String?
    public var metricsAllowRemote: Bool?
    public var resultLog: String?
    public var onFinish: String?
    public var onFinishConcurrency: Int?
    /// Seconds an on_finish command may run.
    public var onFinishTimeout: Double?
    /// The single server of the `ami_*` keys in `[general]` (or the `--ami-*` flags).
    public var ami: AMIServerFields
    /// The line of `[general]`, for errors about it as a whole.
    public var generalLine: Int?
    /// `[ami:NAME]` sections, in the order of the file (the failover order).
    public var amiSections: [AMIServerSection]
    /// `[limit:PATTERN]` sections, in the order of the file.
    public var trunkLimits: [TrunkLimitSettings]
    /// `[window:PATTERN]` sections, in the order of the file (the first match wins).
    public var windows: [WindowSettings] = []
    /// `[retry:PATTERN]` sections, in the order of the file (the first match wins).
    public var retryRules: [RetrySettings] = []
    /// Seconds a call may be dialled after its due time; 0 = off.
    public var maxLateness: Int?

    public init(source: String) {
        self.source = source
        self.ami = AMIServerFields()
        self.amiSections = []
        self.trunkLimits = []
    }

    public static let commandLine = "command line"
}

extension TrunkLimitSettings {
    /// The `--limit PATTERN=MAX_CONCURRENT[,MAX_CPS]` flag: the same limits as a `[limit:PATTERN]`
    /// section. The numbers follow the last `=`, so a pattern may hold `=` itself.
    public init(flag: String) throws(ConfigError) {
        func fail(_ message: String) -> ConfigError {
            ConfigError(file: SettingsLayer.commandLine, line: nil, key: "--limit", message: "\"\(flag)\": \(message)")
        }
        guard let equals = flag.lastIndex(of: "=") else {
            throw fail("expected PATTERN=MAX_CONCURRENT[,MAX_CPS], e.g. PJSIP/*@trunk-a=10,2")
        }
        let pattern = String(flag[..<equals])
        guard !pattern.isEmpty else { throw fail("the channel pattern is empty") }
        let numbers = flag[flag.index(after: equals)...].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard numbers.count <= 2 else { throw fail("expected at most two numbers after =, MAX_CONCURRENT and MAX_CPS") }
        let concurrent: Int
        switch ValueParser.limit(numbers[0]) {
        case .success(let value): concurrent = value
        case .failure(let expectation): throw fail("max_concurrent " + expectation.text)
        }
        var cps = 0.0
        if numbers.count == 2 {
            switch ValueParser.rate(numbers[1]) {
            case .success(let value): cps = value
            case .failure(let expectation): throw fail("max_cps " + expectation.text)
            }
        }
        self.init(pattern: pattern, maxConcurrent: concurrent, maxCps: cps)
    }
}
