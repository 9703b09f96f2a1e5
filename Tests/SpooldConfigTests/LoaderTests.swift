#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import SpooldConfig

/// A temporary directory with files of chosen modes.
final class ConfigDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/spoold-config-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaLikeError("mkdtemp") }
        path = String(cString: made)
    }

    @discardableResult
    func write(_ name: String, _ text: String, mode: mode_t = 0o600) throws -> String {
        let file = path + "/" + name
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, mode)
        guard fd >= 0 else { throw CocoaLikeError("open \(file)") }
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        chmod(file, mode)
        return file
    }

    deinit {
        if let entries = opendir(path) {
            while let entry = readdir(entries) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != ".", name != ".." { unlink(path + "/" + name) }
            }
            closedir(entries)
        }
        rmdir(path)
    }
}

struct CocoaLikeError: Error { let message: String; init(_ m: String) { message = m } }

@Suite("Loading the file and the secrets")
struct LoaderTests {
    var flags: SettingsLayer { SettingsLayer(source: SettingsLayer.commandLine) }

    func load(_ path: String?, environment: [String: String] = [:]) -> Result<LoadedConfiguration, ConfigErrors> {
        ConfigLoader.load(configPath: path, commandLine: flags, environment: environment)
    }

    @Test("A secret file is read (one trailing newline dropped); mode 0600 gives no warning")
    func secretFile() throws {
        let dir = try ConfigDirectory()
        let secret = try dir.write("pbx.secret", "s3cret\n")
        let config = try dir.write("spoold.conf", "[ami:pbx]\nuser = u\nsecret_file = \(secret)\n", mode: 0o644)
        let loaded = try load(config).get()
        #expect(loaded.secrets["pbx"]?.reveal() == "s3cret")
        #expect(loaded.warnings.isEmpty, "the config file holds no secret, so its mode does not matter")
        #expect(loaded.configPath == config)
    }

    @Test("A secret file others or the group can read gets a specific warning", arguments: [
        (mode_t(0o644), "readable by group and others (mode 0644)"),
        (mode_t(0o640), "readable by its group (mode 0640)"),
        (mode_t(0o604), "readable by others (mode 0604)"),
    ])
    func secretFileMode(mode: mode_t, expected: String) throws {
        let dir = try ConfigDirectory()
        let secret = try dir.write("pbx.secret", "s3cret", mode: mode)
        let config = try dir.write("spoold.conf", "[ami:pbx]\nuser = u\nsecret_file = \(secret)\n")
        let warnings = try load(config).get().warnings.map(\.description)
        #expect(warnings == ["\(secret): warning: holds the AMI secret of server pbx and is \(expected); run chmod 600 \(secret) so that only spoold's user can read it"])
    }

    @Test("A configuration file holding a secret inline is checked the same way")
    func inlineSecretMode() throws {
        let dir = try ConfigDirectory()
        let config = try dir.write("spoold.conf", "[general]\nami_user = u\nami_secret = s3cret\n", mode: 0o644)
        let loaded = try load(config).get()
        #expect(loaded.secrets["default"]?.reveal() == "s3cret")
        #expect(loaded.warnings.map(\.description) == ["\(config): warning: holds an AMI secret (line 3) and is readable by group and others (mode 0644); run chmod 600 \(config) or move the secret into a secret_file so that only spoold's user can read it"])
        chmod(config, 0o600)
        #expect(try load(config).get().warnings.isEmpty)
    }

    @Test("A secret from the environment needs no file and warns of nothing")
    func environmentSecret() throws {
        let dir = try ConfigDirectory()
        let config = try dir.write("spoold.conf", "[general]\nami_user = u\n", mode: 0o644)
        let loaded = try load(config, environment: ["SPOOLD_AMI_SECRET": "from-env"]).get()
        #expect(loaded.secrets["default"]?.reveal() == "from-env")
        #expect(loaded.warnings.isEmpty)
    }

    @Test("Missing, empty or symlinked secret files are errors naming the file")
    func badSecretFiles() throws {
        let dir = try ConfigDirectory()
        let empty = try dir.write("empty.secret", "\n")
        let real = try dir.write("real.secret", "x")
        symlink(real, dir.path + "/link.secret")
        for (path, message) in [
            (dir.path + "/missing.secret", "cannot open (No such file or directory)"),
            (empty, "the file is empty"),
            (dir.path + "/link.secret", "is a symlink; spoold does not follow symlinks to secrets"),
        ] {
            let config = try dir.write("spoold.conf", "[ami:pbx]\nuser = u\nsecret_file = \(path)\n")
            let lines = load(config).errorLines
            #expect(lines.count == 1)
            #expect(lines.first?.hasPrefix("\(path): secret_file: AMI secret of server pbx: \(message)") == true, "\(lines)")
        }
    }

    @Test("An unreadable configuration file is one error naming it")
    func missingConfig() {
        #expect(load("/nonexistent/spoold.conf").errorLines.first?.hasPrefix("/nonexistent/spoold.conf: config: cannot open (No such file or directory)") == true)
    }

    @Test("Syntax and meaning errors come back together, every one with file:line")
    func fileErrors() throws {
        let dir = try ConfigDirectory()
        let config = try dir.write("spoold.conf", "[general]\nmax_cps = x\nbogus\n")
        #expect(load(config).errorLines == [
            "\(config):2: max_cps: \"x\" is not valid; expected new calls per second, 0 (no limit) or more, e.g. 50 or 2.5",
            "\(config):3: bogus: expected key = value",
        ])
    }

    @Test("--config wins; else the default path when it exists; else no file")
    func configPath() {
        #expect(ConfigLoader.configPath(flag: "/x.conf", exists: { _ in true }) == "/x.conf")
        #expect(ConfigLoader.configPath(flag: nil, exists: { $0 == "/etc/spoold/spoold.conf" }) == "/etc/spoold/spoold.conf")
        #expect(ConfigLoader.configPath(flag: nil, exists: { _ in false }) == nil)
    }
}

