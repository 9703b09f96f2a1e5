/// Gives the sections of a `spoold.conf` their meaning: `[general]`, `[ami:NAME]` and `[limit:PATTERN]`,
/// each with its own keys. Collects every error (file, line, key, what was expected) rather than
/// stopping at the first.
public enum SettingsReader {
    static let generalKeys = [
        "spool_dir", "backend", "max_concurrent", "max_cps", "finish_at_answer", "fsync", "poll", "standby", "log_level",
        "log_format", "shutdown_grace", "metrics_listen", "metrics_allow_remote", "result_log", "on_finish",
        "on_finish_concurrency", "on_finish_timeout", "max_lateness",
        "ami_selection", "ami_transport", "ami_http_prefix", "ami_host", "ami_port", "ami_user", "ami_secret", "ami_secret_file", "ami_tls", "ami_md5",
        "ami_tls_ca_file", "ami_tls_server_name", "ami_tls_verify",
    ]
    static let serverKeys = [
        "host", "port", "user", "username", "secret", "secret_file", "tls", "md5", "weight", "max_concurrent", "max_cps",
        "tls_ca_file", "tls_server_name", "tls_verify", "transport", "http_prefix",
    ]
    static let limitKeys = ["max_concurrent", "max_cps"]
    static let windowKeys = ["days", "hours", "timezone", "max_lateness"]
    static let retryKeys = ["busy", "noanswer", "congestion", "failure", "hangup"]

    static let serverPrefix = "ami:"
    static let limitPrefix = "limit:"
    static let windowPrefix = "window:"
    static let retryPrefix = "retry:"

    /// Parses and interprets `bytes`, read from `file`.
    /// `timeZoneExists` tells whether a `timezone` value names a zone of the system's tz database.
    public static func read(_ bytes: [UInt8], file: String,
                            timeZoneExists: @escaping (String) -> Bool = TimeZoneDatabase.exists) -> (layer: SettingsLayer, errors: [ConfigError]) {
        let text = ConfigText.parse(bytes, file: file)
        var reader = Reader(file: file, timeZoneExists: timeZoneExists)
        reader.errors = text.errors
        for section in text.sections { reader.read(section) }
        reader.checkServerStyle()
        return (reader.layer, reader.errors.sorted { ($0.line ?? 0) < ($1.line ?? 0) })
    }

    struct Reader {
        let file: String
        let timeZoneExists: (String) -> Bool
        var layer: SettingsLayer
        var errors: [ConfigError] = []
        /// First line of each section seen, by its normalised header, for duplicate reports.
        var seenSections: [String: Int] = [:]
        /// Line of the first `ami_*` key in `[general]`.
        var firstGeneralAMIKey: (key: String, line: Int)?

        init(file: String, timeZoneExists: @escaping (String) -> Bool) {
            self.file = file
            self.timeZoneExists = timeZoneExists
            layer = SettingsLayer(source: file)
        }

        mutating func fail(_ line: Int?, _ key: String, _ message: String) {
            errors.append(ConfigError(file: file, line: line, key: key, message: message))
        }

        mutating func read(_ section: ConfigText.Section) {
            let header = "[\(section.name)]"
            let lowered = section.name.lowercased()
            let identity: String
            if lowered == "general" {
                identity = "general"
            } else if lowered.hasPrefix(SettingsReader.serverPrefix) {
                identity = "ami:" + section.name.dropFirst(SettingsReader.serverPrefix.count).trimmingSpaces
            } else if lowered.hasPrefix(SettingsReader.limitPrefix) {
                identity = "limit:" + section.name.dropFirst(SettingsReader.limitPrefix.count).trimmingSpaces
            } else if lowered.hasPrefix(SettingsReader.windowPrefix) {
                identity = "window:" + section.name.dropFirst(SettingsReader.windowPrefix.count).trimmingSpaces
            } else if lowered.hasPrefix(SettingsReader.retryPrefix) {
                identity = "retry:" + section.name.dropFirst(SettingsReader.retryPrefix.count).trimmingSpaces
            } else {
                var message = "unknown section; expected [general], [ami:NAME] (an AMI server), [limit:PATTERN] (limits for a channel pattern), [window:PATTERN] (when such calls may ring) or [retry:PATTERN] (retry delays per outcome)"
                if lowered == "ami" || KeySuggestion.distance(lowered, "general") <= 2 {
                    message += "; did you mean \(lowered == "ami" ? "[ami:NAME]" : "[general]")?"
                }
                fail(section.line, header, message)
                return
            }
            if let first = seenSections[identity] {
                fail(section.line, header, "section appears twice (first at line \(first)); merge the two into one")
                return
            }
            seenSections[identity] = section.line
            let entries = entriesWithoutDuplicates(section)
            switch identity {
            case "general":
                layer.generalLine = section.line
                readGeneral(entries)
            case let id where id.hasPrefix("ami:"):
                readServer(name: String(id.dropFirst(4)), header: header, line: section.line, entries)
            case let id where id.hasPrefix("window:"):
                readWindow(pattern: String(id.dropFirst(7)), header: header, line: section.line, entries)
            case let id where id.hasPrefix("retry:"):
                readRetry(pattern: String(id.dropFirst(6)), header: header, line: section.line, entries)
            default:
                readLimit(pattern: String(identity.dropFirst(6)), header: header, line: section.line, entries)
            }
        }

        /// Reports keys set twice (`user` and `username` count as one) and keeps the first.
        mutating func entriesWithoutDuplicates(_ section: ConfigText.Section) -> [ConfigText.Entry] {
            var first: [String: ConfigText.Entry] = [:]
            var kept: [ConfigText.Entry] = []
            for entry in section.entries {
                var canonical = entry.key.lowercased()
                if canonical == "username" { canonical = "user" }
                if let earlier = first[canonical] {
                    fail(entry.line, entry.key, "set twice in [\(section.name)] (first at line \(earlier.line), as \(earlier.key)); keep one")
                    continue
                }
                first[canonical] = entry
                kept.append(entry)
            }
            return kept
        }

        mutating func unknownKey(_ entry: ConfigText.Entry, in header: String, known: [String]) {
            let key = entry.key.lowercased()
            var message = "unknown key in \(header)"
            if let suggestion = KeySuggestion.closest(to: key, among: known) {
                message += "; did you mean \(suggestion)?"
            } else if header != "[general]", SettingsReader.generalKeys.contains(key) {
                message += "; \(key) belongs in [general]"
            } else if !header.hasPrefix("[ami:"), SettingsReader.serverKeys.contains(key) {
                message += "; \(key) belongs in an [ami:NAME] section"
            } else {
                message += "; known keys: \(known.joined(separator: ", "))"
            }
            fail(entry.line, entry.key, message)
        }

        /// The parsed value, or nil after reporting what was expected.
        mutating func typed<T>(_ entry: ConfigText.Entry, _ parsed: ValueParser.Parsed<T>) -> T? {
            var result: T?
            take(entry, parsed, into: &result)
            return result
        }

        /// Stores a parsed value, or reports what was expected.
        mutating func take<T>(_ entry: ConfigText.Entry, _ parsed: ValueParser.Parsed<T>, into target: inout T?) {
            switch parsed {
            case .success(let value): target = value
            case .failure(let expectation): fail(entry.line, entry.key, expectation.text)
            }
        }

        mutating func readGeneral(_ entries: [ConfigText.Entry]) {
            for entry in entries {
                let key = entry.key.lowercased(), value = entry.value
                if key.hasPrefix("ami_"), !["ami_selection", "ami_transport", "ami_http_prefix"].contains(key), SettingsReader.generalKeys.contains(key), firstGeneralAMIKey == nil {
                    firstGeneralAMIKey = (entry.key, entry.line)
                }
                switch key {
                case "spool_dir": layer.spoolDir = typed(entry, ValueParser.absolutePath(value))
                case "backend": layer.backend = typed(entry, ValueParser.choice(value, BackendKind.self))
                case "max_concurrent": layer.maxConcurrent = typed(entry, ValueParser.limit(value))
                case "max_cps": layer.maxCps = typed(entry, ValueParser.rate(value))
                case "finish_at_answer": layer.finishAtAnswer = typed(entry, ValueParser.boolean(value))
                case "fsync": layer.fsync = typed(entry, ValueParser.boolean(value))
                case "poll": layer.poll = typed(entry, ValueParser.boolean(value))
                case "standby": layer.standby = typed(entry, ValueParser.boolean(value))
                case "log_level": layer.logLevel = typed(entry, ValueParser.logLevel(value))
                case "ami_selection": layer.amiSelection = typed(entry, ValueParser.choice(value, AMISelection.self))
                case "log_format": layer.logFormat = typed(entry, ValueParser.choice(value, LogFormatKind.self))
                case "shutdown_grace": layer.shutdownGrace = typed(entry, ValueParser.seconds(value, in: 0...86_400))
                case "metrics_listen": layer.metricsListen = typed(entry, ValueParser.nonEmpty(value, "HOST:PORT, [IPV6]:PORT or a port"))
                case "metrics_allow_remote": layer.metricsAllowRemote = typed(entry, ValueParser.boolean(value))
                case "result_log": layer.resultLog = typed(entry, ValueParser.absolutePath(value))
                case "on_finish": layer.onFinish = typed(entry, ValueParser.nonEmpty(value, "a command for /bin/sh -c"))
                case "on_finish_concurrency": layer.onFinishConcurrency = typed(entry, ValueParser.integer(value, in: 1...1000, "a whole number from 1 to 1000"))
                case "on_finish_timeout": layer.onFinishTimeout = typed(entry, ValueParser.seconds(value, in: 0.001...86_400))
                case "max_lateness": layer.maxLateness = typed(entry, ValueParser.lateness(value))
                case "ami_transport": layer.amiTransport = typed(entry, ValueParser.choice(value, AMITransportKind.self))
                case "ami_http_prefix": layer.amiHttpPrefix = typed(entry, ValueParser.urlPath(value))
                case "ami_host", "ami_port", "ami_user", "ami_secret", "ami_secret_file", "ami_tls", "ami_md5",
                     "ami_tls_ca_file", "ami_tls_server_name", "ami_tls_verify":
                    var fields = layer.ami
                    readServerField(entry, key: String(key.dropFirst(4)), secretKeys: ("ami_secret", "ami_secret_file"),
                                    into: &fields)
                    layer.ami = fields
                default: unknownKey(entry, in: "[general]", known: SettingsReader.generalKeys)
                }
            }
        }

        /// The keys a server has in both places: `[general]` (prefixed `ami_`) and `[ami:NAME]`.
        mutating func readServerField(_ entry: ConfigText.Entry, key: String, secretKeys: (String, String),
                                      into fields: inout AMIServerFields) {
            let value = entry.value
            switch key {
            case "host": take(entry, ValueParser.nonEmpty(value, "a host name or address"), into: &fields.host)
            case "port": take(entry, ValueParser.port(value), into: &fields.port)
            case "user", "username": take(entry, ValueParser.nonEmpty(value, "the AMI user (the manager.conf section name)"), into: &fields.user)
            case "tls": take(entry, ValueParser.boolean(value), into: &fields.tls)
            case "md5": take(entry, ValueParser.boolean(value), into: &fields.md5)
            case "tls_ca_file": take(entry, ValueParser.absolutePath(value), into: &fields.tlsCAFile)
            case "tls_server_name": take(entry, ValueParser.nonEmpty(value, "the host name the server's certificate carries"), into: &fields.tlsServerName)
            case "tls_verify": take(entry, ValueParser.boolean(value), into: &fields.tlsVerify)
            case "transport": take(entry, ValueParser.choice(value, AMITransportKind.self), into: &fields.transport)
            case "http_prefix": take(entry, ValueParser.urlPath(value), into: &fields.httpPrefix)
            case "secret", "secret_file":
                let isFile = key == "secret_file"
                if fields.secret != nil {
                    fail(entry.line, entry.key, "\(secretKeys.0) and \(secretKeys.1) are both set; keep one")
                    return
                }
                if value.isEmpty {
                    fail(entry.line, entry.key, isFile ? "is empty; expected the path of a file holding the secret" : "is empty; expected the AMI secret (or use \(secretKeys.1))")
                } else if isFile {
                    var path: String?
                    take(entry, ValueParser.absolutePath(value), into: &path)
                    if let path { fields.secret = .file(path) }
                } else {
                    fields.secret = .inline(SecretValue(value), line: entry.line)
                }
            default: preconditionFailure("not a server key: \(key)")
            }
        }

        mutating func readServer(name: String, header: String, line: Int, _ entries: [ConfigText.Entry]) {
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
                fail(line, header, "a server name needs letters, digits, _ or - only (it names the server in logs, metrics and SPOOLD_AMI_SECRET_<NAME>)")
                return
            }
            var section = AMIServerSection(name: name, line: line)
            for entry in entries {
                let key = entry.key.lowercased(), value = entry.value
                switch key {
                case "weight": take(entry, ValueParser.weight(value), into: &section.weight)
                case "max_concurrent": take(entry, ValueParser.limit(value), into: &section.maxConcurrent)
                case "max_cps": take(entry, ValueParser.rate(value), into: &section.maxCps)
                case let key where SettingsReader.serverKeys.contains(key):
                    readServerField(entry, key: key, secretKeys: ("secret", "secret_file"), into: &section.fields)
                default: unknownKey(entry, in: header, known: SettingsReader.serverKeys)
                }
            }
            layer.amiSections.append(section)
        }

        mutating func readLimit(pattern: String, header: String, line: Int, _ entries: [ConfigText.Entry]) {
            guard !pattern.isEmpty else {
                fail(line, header, "a limit section needs a channel pattern, e.g. [limit:PJSIP/*@trunk-a]")
                return
            }
            var maxConcurrent: Int?
            var maxCps: Double?
            for entry in entries {
                switch entry.key.lowercased() {
                case "max_concurrent": take(entry, ValueParser.limit(entry.value), into: &maxConcurrent)
                case "max_cps": take(entry, ValueParser.rate(entry.value), into: &maxCps)
                default: unknownKey(entry, in: header, known: SettingsReader.limitKeys)
                }
            }
            if entries.isEmpty {
                fail(line, header, "sets no limit; add max_concurrent and/or max_cps")
            }
            layer.trunkLimits.append(TrunkLimitSettings(pattern: pattern, maxConcurrent: maxConcurrent ?? 0, maxCps: maxCps ?? 0))
        }

        mutating func readWindow(pattern: String, header: String, line: Int, _ entries: [ConfigText.Entry]) {
            guard !pattern.isEmpty else {
                fail(line, header, "a window section needs a channel pattern, e.g. [window:PJSIP/*@trunk-a] or [window:*]")
                return
            }
            var days: UInt8?
            var hours: [WindowSettings.HoursRange]?
            var timeZone: String?
            var maxLateness: Int?
            for entry in entries {
                switch entry.key.lowercased() {
                case "days": take(entry, ValueParser.days(entry.value), into: &days)
                case "hours": take(entry, ValueParser.hours(entry.value), into: &hours)
                case "timezone": take(entry, ValueParser.timeZone(entry.value, exists: timeZoneExists), into: &timeZone)
                case "max_lateness": take(entry, ValueParser.lateness(entry.value), into: &maxLateness)
                default: unknownKey(entry, in: header, known: SettingsReader.windowKeys)
                }
            }
            let given = Set(entries.map { $0.key.lowercased() })
            if !given.contains("hours") {
                fail(line, header, "sets no hours; add hours = HH:MM-HH:MM[, HH:MM-HH:MM…] (local time, e.g. 09:00-20:00)")
            }
            guard let hours else { return }
            layer.windows.append(WindowSettings(pattern: pattern, line: line, days: days ?? 0x7F, hours: hours,
                                                timeZone: timeZone, maxLateness: maxLateness))
        }

        mutating func readRetry(pattern: String, header: String, line: Int, _ entries: [ConfigText.Entry]) {
            guard !pattern.isEmpty else {
                fail(line, header, "a retry section needs a channel pattern, e.g. [retry:PJSIP/*@trunk-a] or [retry:*]")
                return
            }
            var rule = RetrySettings(pattern: pattern, line: line)
            for entry in entries {
                switch entry.key.lowercased() {
                case "busy": take(entry, ValueParser.retryDelay(entry.value), into: &rule.busy)
                case "noanswer": take(entry, ValueParser.retryDelay(entry.value), into: &rule.noAnswer)
                case "congestion": take(entry, ValueParser.retryDelay(entry.value), into: &rule.congestion)
                case "failure": take(entry, ValueParser.retryDelay(entry.value), into: &rule.failure)
                case "hangup": take(entry, ValueParser.retryDelay(entry.value), into: &rule.hangup)
                default: unknownKey(entry, in: header, known: SettingsReader.retryKeys)
                }
            }
            if entries.isEmpty {
                fail(line, header, "sets no delay; add busy, noanswer, congestion, failure and/or hangup (seconds or never)")
            }
            layer.retryRules.append(rule)
        }

        /// One server in `[general]` or several in `[ami:NAME]` sections, never both: a mix would leave it
        /// unclear which server the `ami_*` keys describe.
        mutating func checkServerStyle() {
            guard let first = firstGeneralAMIKey, let section = layer.amiSections.first else { return }
            fail(first.line, first.key, "ami_* keys in [general] cannot be combined with [ami:NAME] sections (first at line \(section.line)); move them into an [ami:NAME] section")
        }
    }
}
