#if canImport(Glibc)
import Glibc
#endif

/// The configuration as `spoold run` uses it: settings, each server's secret, and warnings.
public struct LoadedConfiguration: Sendable {
    public var settings: SpooldSettings
    /// By server name. Read at load time so that a missing or unreadable secret file is an error before
    /// spoold starts (and on reload, before the old settings are given up).
    public var secrets: [String: SecretValue]
    public var warnings: [ConfigWarning]
    /// The file read, nil when there was none.
    public var configPath: String?
}

/// Reads the configuration file and secret files (the only I/O of this module), then resolves the layers.
public enum ConfigLoader {
    /// A configuration or secret file larger than this is refused: it is not what the administrator meant.
    static let maxFileSize = 1 << 20
    static let maxSecretSize = 4096

    /// `--config FILE` when given; otherwise the default path if it exists; otherwise no file.
    public static func configPath(flag: String?, exists: (String) -> Bool = fileExists) -> String? {
        if let flag { return flag }
        return exists(SpooldSettings.Defaults.configPath) ? SpooldSettings.Defaults.configPath : nil
    }

    public static func load(
        configPath: String?, commandLine: SettingsLayer, environment: [String: String]
    ) -> Result<LoadedConfiguration, ConfigErrors> {
        var fileLayer: SettingsLayer?
        var configMode: UInt32?
        if let configPath {
            switch readFile(configPath, limit: maxFileSize) {
            case .failure(let failure):
                return .failure(ConfigErrors([ConfigError(file: configPath, line: nil, key: "config", message: failure.message)]))
            case .success(let (bytes, mode)):
                let (layer, errors) = SettingsReader.read(bytes, file: configPath)
                guard errors.isEmpty else { return .failure(ConfigErrors(errors)) }
                fileLayer = layer
                configMode = mode
            }
        }
        let settings: SpooldSettings
        switch SpooldSettings.resolve(commandLine: commandLine, file: fileLayer, environment: environment) {
        case .failure(let errors): return .failure(errors)
        case .success(let resolved): settings = resolved
        }
        var secrets: [String: SecretValue] = [:]
        var warnings: [ConfigWarning] = []
        var errors: [ConfigError] = []
        var warnedConfigFile = false
        for server in settings.amiServers {
            switch server.secret {
            case .environment(_, let value):
                secrets[server.name] = value
            case .configFile(let path, let line, let value):
                secrets[server.name] = value
                if !warnedConfigFile, let mode = configMode,
                   let warning = permissionWarning(path: path, mode: mode, holding: "holds an AMI secret (line \(line.map(String.init) ?? "?"))",
                                                   advice: "or move the secret into a secret_file") {
                    warnings.append(warning)
                    warnedConfigFile = true
                }
            case .secretFile(let path):
                switch readFile(path, limit: maxSecretSize, followSymlinks: false) {
                case .failure(let failure):
                    errors.append(ConfigError(file: path, line: nil, key: "secret_file", message: "AMI secret of server \(server.name): \(failure.message)"))
                case .success(let (bytes, mode)):
                    guard let value = secretText(bytes) else {
                        errors.append(ConfigError(file: path, line: nil, key: "secret_file", message: "AMI secret of server \(server.name): the file is empty"))
                        continue
                    }
                    secrets[server.name] = value
                    if let warning = permissionWarning(path: path, mode: mode, holding: "holds the AMI secret of server \(server.name)", advice: nil) {
                        warnings.append(warning)
                    }
                }
            }
        }
        guard errors.isEmpty else { return .failure(ConfigErrors(errors)) }
        return .success(LoadedConfiguration(settings: settings, secrets: secrets, warnings: warnings, configPath: configPath))
    }

    /// The file's text with one trailing line ending dropped; nil when nothing is left.
    static func secretText(_ bytes: [UInt8]) -> SecretValue? {
        var bytes = bytes
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        return bytes.isEmpty ? nil : SecretValue(String(decoding: bytes, as: UTF8.self))
    }

    /// A specific warning when group or others may read a file that holds a secret.
    public static func permissionWarning(path: String, mode: UInt32, holding what: String, advice: String?) -> ConfigWarning? {
        let group = mode & 0o040 != 0, others = mode & 0o004 != 0
        guard group || others else { return nil }
        let who = group && others ? "group and others" : group ? "its group" : "others"
        let octal = String(mode & 0o7777, radix: 8)
        return ConfigWarning(
            file: path,
            message: "\(what) and is readable by \(who) (mode \(String(repeating: "0", count: max(0, 4 - octal.count)) + octal)); run chmod 600 \(path)\(advice.map { " \($0)" } ?? "") so that only spoold's user can read it")
    }

    public static func fileExists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    struct ReadFailure: Error {
        var message: String
    }

    /// Reads a whole regular file; the failure is a message naming the cause.
    static func readFile(_ path: String, limit: Int, followSymlinks: Bool = true) -> Result<([UInt8], UInt32), ReadFailure> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followSymlinks ? 0 : O_NOFOLLOW))
        guard descriptor >= 0 else {
            let cause = errno
            if cause == ELOOP, !followSymlinks { return .failure(ReadFailure(message: "is a symlink; spoold does not follow symlinks to secrets")) }
            return .failure(ReadFailure(message: "cannot open (\(describe(cause))); spoold runs as uid \(getuid())"))
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return .failure(ReadFailure(message: "cannot stat (\(describe(errno)))")) }
        guard info.st_mode & S_IFMT == S_IFREG else { return .failure(ReadFailure(message: "is not a regular file")) }
        guard Int(info.st_size) <= limit else { return .failure(ReadFailure(message: "is larger than \(limit) bytes")) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(ReadFailure(message: "cannot read (\(describe(errno)))"))
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
            if bytes.count > limit { return .failure(ReadFailure(message: "is larger than \(limit) bytes")) }
        }
        return .success((bytes, UInt32(info.st_mode)))
    }

    static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }
}
