import AMI
import ArgumentParser
import Foundation
import Logging
import SpooldConfig
import Spooler
import SpoolerAMI

/// `spoold run`'s flags as a settings layer over the configuration file, and `--check-config`.
extension RunCommand {
    /// Only the flags given explicitly: an unset flag leaves the file's value (or the default) in force.
    /// `--limit` values were checked by `validate()`.
    var commandLineLayer: SettingsLayer {
        var layer = SettingsLayer(source: SettingsLayer.commandLine)
        layer.spoolDir = spoolDir
        layer.backend = backend
        layer.maxConcurrent = maxConcurrent
        layer.maxCps = maxCps
        layer.finishAtAnswer = finishAtAnswer
        layer.fsync = fsync
        layer.poll = poll
        layer.standby = standby
        layer.logLevel = logLevel
        layer.amiSelection = amiSelection
        layer.amiTransport = ami.amiTransport.flatMap { AMITransportKind(rawValue: $0.rawValue) }
        layer.amiHttpPrefix = ami.amiHttpPrefix
        layer.logFormat = logFormat.flatMap { LogFormatKind(rawValue: $0.rawValue) }
        layer.shutdownGrace = shutdownGrace
        layer.metricsListen = observability.metricsListen
        layer.metricsAllowRemote = observability.metricsAllowRemote
        layer.resultLog = observability.resultLog
        layer.onFinish = observability.onFinish
        layer.onFinishConcurrency = observability.onFinishConcurrency
        layer.onFinishTimeout = observability.onFinishTimeout
        layer.trunkLimits = limits.compactMap { try? TrunkLimitSettings(flag: $0) }
        layer.ami = AMIServerFields(host: ami.amiHost, port: ami.amiPort, user: ami.amiUser,
                                    secret: ami.amiSecretFile.map { .file($0) }, tls: ami.amiTls, md5: ami.amiMd5,
                                    tlsCAFile: ami.amiTlsCaFile, tlsServerName: ami.amiTlsServerName,
                                    tlsVerify: ami.amiTlsVerify)
        return layer
    }

    /// Loads and checks the configuration. Invalid: the errors on stderr, one per line, and exit 1.
    /// With `--check-config`: a summary on stdout and exit 0.
    func loadConfiguration() throws -> (LoadedConfiguration, CallingRules) {
        let path = ConfigLoader.configPath(flag: config)
        switch ConfigLoader.loadWithRules(configPath: path, commandLine: commandLineLayer, environment: ProcessInfo.processInfo.environment) {
        case .failure(let errors):
            for error in errors.errors { printError(error.description) }
            throw ExitCode.failure
        case .success(let (loaded, rules)):
            guard checkConfig else { return (loaded, rules) }
            for warning in loaded.warnings { printError(warning.description) }
            print(ConfigSummary.lines(loaded).joined(separator: "\n"))
            throw ExitCode.success
        }
    }
}

extension SpooldSettings {
    func engineConfiguration(callingRules: CallingRules) -> EngineConfiguration {
        var configuration = EngineConfiguration(
            spoolDirectory: spoolDir, maxConcurrent: maxConcurrent, maxCallsPerSecond: maxCps, finishAtAnswer: finishAtAnswer)
        configuration.trunkLimits = engineTrunkRules
        configuration.callingRules = callingRules
        return configuration
    }

    var engineTrunkRules: [TrunkLimits.Rule] {
        trunkLimits.map { TrunkLimits.Rule(pattern: $0.pattern, maxConcurrent: $0.maxConcurrent, maxPerSecond: $0.maxCps) }
    }

    func engineLimits(callingRules: CallingRules) -> EngineLimits {
        EngineLimits(maxConcurrent: maxConcurrent, maxCallsPerSecond: maxCps, trunks: engineTrunkRules, callingRules: callingRules)
    }
}

extension ConfigLoader {
    /// `load`, then the calling rules with each window's time zone read from the tz database: a zone file
    /// that cannot be read is one more `file:line` error, so `--check-config`, the start and a reload
    /// refuse it alike.
    static func loadWithRules(configPath: String?, commandLine: SettingsLayer,
                              environment: [String: String]) -> Result<(LoadedConfiguration, CallingRules), ConfigErrors> {
        load(configPath: configPath, commandLine: commandLine, environment: environment).flatMap { loaded in
            do throws(ConfigError) {
                return .success((loaded, try loaded.settings.callingRules(configPath: loaded.configPath)))
            } catch {
                return .failure(ConfigErrors([error]))
            }
        }
    }
}

extension SpooldSettings {
    /// The calling windows, retry rules and max_lateness for the engine, each window's zone read from the
    /// system's tz database (`timezone`, or /etc/localtime when a window names none). A zone file that
    /// cannot be read is a configuration error naming the window's line.
    func callingRules(configPath: String?) throws(ConfigError) -> CallingRules {
        var zones: [String: ZoneRules] = [:]
        var windows: [CallingWindow] = []
        for window in self.windows {
            let name = window.timeZone ?? ZoneFiles.systemZoneName
            if zones[name] == nil {
                let path = window.timeZone.flatMap(TimeZoneDatabase.path(of:)) ?? ZoneFiles.systemZonePath
                do {
                    zones[name] = try ZoneFiles.read(name: name, path: path)
                } catch {
                    throw ConfigError(file: configPath ?? SettingsLayer.commandLine, line: window.line,
                                      key: "[window:\(window.pattern)]", message: "cannot read the time zone \(name) from \(path): \(error)")
                }
            }
            let hours = window.hours.map { DailyHours(start: $0.start, end: $0.end) }
            windows.append(CallingWindow(pattern: ChannelPattern(window.pattern), days: Weekdays(rawValue: window.days),
                                         hours: hours, zone: zones[name]!, maxLateness: window.maxLateness))
        }
        let retryRules = self.retryRules.map { rule in
            func delay(_ setting: RetryDelaySetting?) -> RetryDelay? {
                switch setting {
                case .seconds(let seconds)?: .after(seconds: seconds)
                case .never?: .never
                case nil: nil
                }
            }
            return RetryRule(pattern: ChannelPattern(rule.pattern), busy: delay(rule.busy), noAnswer: delay(rule.noAnswer),
                             congestion: delay(rule.congestion), failure: delay(rule.failure), hangup: delay(rule.hangup))
        }
        return CallingRules(windows: windows, retryRules: retryRules, maxLateness: maxLateness)
    }
}

/// The system's tz database files, read for the calling windows.
enum ZoneFiles {
    static let systemZonePath = "/etc/localtime"

    /// The zone /etc/localtime links to (`Europe/Berlin`), or `localtime` when it is a copy.
    static var systemZoneName: String {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: systemZonePath),
              let range = target.range(of: "zoneinfo/") else { return "localtime" }
        return String(target[range.upperBound...])
    }

    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    static func read(name: String, path: String) throws -> ZoneRules {
        // No /etc/localtime (a bare container): the C library takes UTC then, and so does spoold.
        if path == systemZonePath, !FileManager.default.fileExists(atPath: path) { return ZoneRules(name: "UTC", fixedOffset: 0) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Unreadable(description: "no such file, or not readable")
        }
        return try ZoneRules(name: name, tzif: Array(data))
    }
}

extension LoadedConfiguration {
    /// The AMI client settings of one server.
    func amiConfiguration(_ server: AMIServerSettings) -> AMIConfiguration {
        // `load` read every server's secret or failed, so it is there.
        let secret = AMISecret(secrets[server.name]?.reveal() ?? "")
        var configuration = AMIConfiguration(host: server.host, port: server.port, username: server.user, secret: secret)
        if server.transport == .http {
            configuration.transport = .http(AMIConfiguration.HTTP(pathPrefix: server.httpPrefix))
        }
        configuration.tls = server.tls
            ? AMIConfiguration.TLS(caFile: server.tlsCAFile, verifyCertificate: server.tlsVerify, serverName: server.tlsServerName)
            : nil
        configuration.useMD5 = server.md5
        return configuration
    }

    /// Every configured server in one pool (failover or spread, each with its own limits). A list the pool
    /// cannot work with is a configuration error: it names the server and the key, and spoold exits 1.
    func serverPool(selection flag: AMISelection?, logger: Logger) throws -> AMIServerPool {
        let servers = settings.amiServers.map { server in
            AMIServer(name: server.name, configuration: amiConfiguration(server), weight: server.weight,
                      maxConcurrent: server.maxConcurrent, maxCallsPerSecond: server.maxCps)
        }
        let selection = AMIServerSelection(rawValue: (flag ?? settings.amiSelection).rawValue) ?? .failover
        do {
            return try AMIServerPool(servers: servers, selection: selection, logger: logger) { configuration, logger in
                makeAMIConnection(configuration: configuration, eventLoopGroup: ProcessEventLoop.group, logger: logger)
            }
        } catch {
            printError("spoold: \(configPath ?? "flags"): \(error)")
            throw ExitCode.failure
        }
    }
}

/// What `--check-config` prints: the settings in force, with where each server's secret comes from
/// (never the secret).
enum ConfigSummary {
    static func lines(_ loaded: LoadedConfiguration) -> [String] {
        let s = loaded.settings
        func yesNo(_ value: Bool) -> String { value ? "yes" : "no" }
        func number(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(value) }
        var lines = ["\(loaded.configPath ?? "no configuration file (flags and defaults)"): valid"]
        lines.append("spool_dir \(s.spoolDir), backend \(s.backend.rawValue), max_concurrent \(s.maxConcurrent), max_cps \(number(s.maxCps)), finish_at_answer \(yesNo(s.finishAtAnswer)), fsync \(yesNo(s.fsync)), poll \(yesNo(s.poll)), standby \(yesNo(s.standby)), log_level \(s.logLevel.rawValue)")
        if !s.amiServers.isEmpty {
            lines.append("AMI servers (\(s.amiSelection.rawValue)):")
            for server in s.amiServers {
                let over = server.transport == .http ? "http \(server.httpPrefix) at " : ""
                var tls = yesNo(server.tls)
                if server.tls {
                    tls += " (verify \(yesNo(server.tlsVerify))\(server.tlsCAFile.map { ", CA \($0)" } ?? "")\(server.tlsServerName.map { ", name \($0)" } ?? ""))"
                }
                lines.append("  \(server.name): \(over)\(server.user)@\(server.host):\(server.port), tls \(tls), md5 \(yesNo(server.md5)), weight \(server.weight), max_concurrent \(server.maxConcurrent), max_cps \(number(server.maxCps)), \(server.secret)")
            }
        }
        for limit in s.trunkLimits {
            lines.append("limit \(limit.pattern): max_concurrent \(limit.maxConcurrent), max_cps \(number(limit.maxCps))")
        }
        if s.maxLateness > 0 { lines.append("max_lateness \(s.maxLateness) s") }
        let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
        func clock(_ minutes: Int) -> String { String(format: "%02d:%02d", minutes / 60, minutes % 60) }
        for window in s.windows {
            let days = (0..<7).filter { window.days & (1 << $0) != 0 }.map { dayNames[$0] }.joined(separator: ",")
            let hours = window.hours.map { "\(clock($0.start))-\(clock($0.end))" }.joined(separator: ", ")
            let lateness = window.maxLateness.map { ", max_lateness \($0) s" } ?? ""
            lines.append("window \(window.pattern): days \(days), hours \(hours), timezone \(window.timeZone ?? "system (\(ZoneFiles.systemZoneName))")\(lateness)")
        }
        for rule in s.retryRules {
            let delays: [(String, RetryDelaySetting?)] = [("busy", rule.busy), ("noanswer", rule.noAnswer),
                                                          ("congestion", rule.congestion), ("failure", rule.failure), ("hangup", rule.hangup)]
            let text = delays.compactMap { key, delay -> String? in
                switch delay {
                case .seconds(let seconds)?: "\(key) \(seconds) s"
                case .never?: "\(key) never"
                case nil: nil
                }
            }.joined(separator: ", ")
            lines.append("retry \(rule.pattern): \(text)")
        }
        return lines
    }
}

extension BackendKind: ExpressibleByArgument {}
extension AMISelection: ExpressibleByArgument {}
