import Foundation
import Logging
import SpooldConfig
import Spooler

/// The outcome of one reload, for the log and for whoever wraps `reload()` (systemd's RELOADING/READY).
enum ReloadResult: Sendable, Equatable {
    /// The new configuration is valid. `changed` took effect at once; `needsRestart` are settings whose
    /// new values wait for the next start (the running ones stay).
    case applied(changed: [String], needsRestart: [String])
    /// Invalid: nothing changed. One `file:line: key: message` per error.
    case rejected(errors: [String])
}

/// Re-reads the configuration on request (SIGHUP) and applies what can change without dropping calls:
/// the global and per-trunk limits, the calling rules (windows, retry, max_lateness) and the log level.
/// Everything else is reported as needing a restart.
actor ConfigReloader {
    private var running: LoadedConfiguration
    /// The calling rules in force, their zones as read at the last (re)load.
    private var runningRules: CallingRules
    private let configFlag: String?
    private let commandLine: SettingsLayer
    private let engine: SpoolEngine
    private let logLevel: LiveLogLevel
    private let logger: Logger
    private let environment: @Sendable () -> [String: String]

    init(
        loaded: LoadedConfiguration, callingRules: CallingRules = CallingRules(), configFlag: String?, commandLine: SettingsLayer, engine: SpoolEngine,
        logLevel: LiveLogLevel, logger: Logger,
        environment: @escaping @Sendable () -> [String: String] = { ProcessInfo.processInfo.environment }
    ) {
        self.running = loaded
        self.runningRules = callingRules
        self.configFlag = configFlag
        self.commandLine = commandLine
        self.engine = engine
        self.logLevel = logLevel
        self.logger = logger
        self.environment = environment
    }

    func reload() async -> ReloadResult {
        let path = ConfigLoader.configPath(flag: configFlag)
        logger.notice("reloading the configuration from \(path ?? "flags and defaults (no configuration file)")")
        let loaded: LoadedConfiguration, rules: CallingRules
        switch ConfigLoader.loadWithRules(configPath: path, commandLine: commandLine, environment: environment()) {
        case .failure(let errors):
            for error in errors.errors {
                logger.error("reload refused, the running settings stay: \(error)")
            }
            return .rejected(errors: errors.errors.map(\.description))
        case .success(let result):
            (loaded, rules) = result
        }
        for warning in loaded.warnings { logger.warning("\(warning)") }

        let old = running.settings, new = loaded.settings
        var changed: [String] = []
        if old.maxConcurrent != new.maxConcurrent { changed.append("max_concurrent") }
        if old.maxCps != new.maxCps { changed.append("max_cps") }
        if old.trunkLimits != new.trunkLimits { changed.append("limit sections") }
        if old.windows != new.windows { changed.append("window sections") }
        if old.retryRules != new.retryRules { changed.append("retry sections") }
        if old.maxLateness != new.maxLateness { changed.append("max_lateness") }
        if old.logLevel != new.logLevel { changed.append("log_level") }
        var needsRestart: [String] = []
        if old.spoolDir != new.spoolDir { needsRestart.append("spool_dir") }
        if old.backend != new.backend { needsRestart.append("backend") }
        if old.poll != new.poll { needsRestart.append("poll") }
        if old.standby != new.standby { needsRestart.append("standby") }
        if old.finishAtAnswer != new.finishAtAnswer { needsRestart.append("finish_at_answer") }
        if old.fsync != new.fsync { needsRestart.append("fsync") }
        if old.amiSelection != new.amiSelection { needsRestart.append("ami_selection") }
        if old.amiServers != new.amiServers || running.secrets != loaded.secrets { needsRestart.append("AMI servers") }
        if old.amiTransport != new.amiTransport { needsRestart.append("ami_transport") }
        if old.amiHttpPrefix != new.amiHttpPrefix { needsRestart.append("ami_http_prefix") }
        if old.logFormat != new.logFormat { needsRestart.append("log_format") }
        if old.shutdownGrace != new.shutdownGrace { needsRestart.append("shutdown_grace") }
        if old.metricsListen != new.metricsListen || old.metricsAllowRemote != new.metricsAllowRemote {
            needsRestart.append("metrics_listen")
        }
        if old.resultLog != new.resultLog { needsRestart.append("result_log") }
        if old.onFinish != new.onFinish || old.onFinishConcurrency != new.onFinishConcurrency
            || old.onFinishTimeout != new.onFinishTimeout {
            needsRestart.append("on_finish")
        }

        let newLimits = new.engineLimits(callingRules: rules)
        if old.engineLimits(callingRules: runningRules) != newLimits { await engine.applyLimits(newLimits) }
        logLevel.level = new.logLevel
        // Settings that need a restart keep their running values, so the next reload reports them again.
        var applied = running
        applied.settings.maxConcurrent = new.maxConcurrent
        applied.settings.maxCps = new.maxCps
        applied.settings.trunkLimits = new.trunkLimits
        applied.settings.logLevel = new.logLevel
        (applied.settings.windows, applied.settings.retryRules, applied.settings.maxLateness) = (new.windows, new.retryRules, new.maxLateness)
        running = applied
        runningRules = rules

        let changedText = changed.isEmpty ? "nothing that applies live changed" : "applied " + changed.joined(separator: ", ")
        let restartText = needsRestart.isEmpty ? "" : "; changed but needing a restart to take effect: " + needsRestart.joined(separator: ", ")
        logger.notice("configuration reloaded: \(changedText)\(restartText)")
        return .applied(changed: changed, needsRestart: needsRestart)
    }
}
