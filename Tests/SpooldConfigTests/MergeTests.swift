import Logging
import Spooler
import Testing
@testable import SpooldConfig

@Suite("Flags over the file over the defaults")
struct MergeTests {
    func file(_ text: String) -> SettingsLayer {
        let (layer, errors) = SettingsReader.read(Array(text.utf8), file: "/etc/spoold/spoold.conf")
        #expect(errors.isEmpty, "\(errors)")
        return layer
    }

    func resolve(_ commandLine: SettingsLayer, _ file: SettingsLayer?, environment: [String: String] = [:]) -> Result<SpooldSettings, ConfigErrors> {
        SpooldSettings.resolve(commandLine: commandLine, file: file, environment: environment)
    }

    var flags: SettingsLayer { SettingsLayer(source: SettingsLayer.commandLine) }

    @Test("The defaults, with no file and no flags (simulate needs no server)")
    func defaults() throws {
        var commandLine = flags
        commandLine.backend = .simulate
        let settings = try resolve(commandLine, nil).get()
        #expect(settings == SpooldSettings(
            spoolDir: "/var/spool/asterisk", backend: .simulate, maxConcurrent: 100, maxCps: 50, finishAtAnswer: false,
            poll: false, logLevel: .info, amiSelection: .failover, amiServers: [], trunkLimits: []))
    }

    @Test("The configuration's default limits are the engine's")
    func defaultsMatchEngine() {
        #expect(SpooldSettings.Defaults.maxConcurrent == EngineConfiguration.defaultMaxConcurrent)
        #expect(SpooldSettings.Defaults.maxCps == EngineConfiguration.defaultMaxCallsPerSecond)
    }

    @Test("A value in the file beats the default; a flag beats the file, false flags included")
    func precedence() throws {
        let layer = file("""
            [general]
            backend = simulate
            spool_dir = /from/file
            max_concurrent = 5
            max_cps = 7
            finish_at_answer = yes
            poll = yes
            log_level = debug
            """)
        var commandLine = flags
        commandLine.maxCps = 9
        commandLine.poll = false
        let settings = try resolve(commandLine, layer).get()
        #expect(settings.spoolDir == "/from/file")
        #expect(settings.maxConcurrent == 5, "file over default")
        #expect(settings.maxCps == 9, "flag over file")
        #expect(settings.poll == false, "--no-poll over poll = yes")
        #expect(settings.finishAtAnswer == true)
        #expect(settings.logLevel == .debug)
    }

    @Test("The single server: ami_* keys, overridden field by field by --ami-* flags; port follows TLS")
    func singleServer() throws {
        let layer = file("[general]\nami_host = pbx\nami_user = spoold\nami_secret_file = /etc/spoold/s\nami_tls = yes\n")
        var commandLine = flags
        commandLine.ami.user = "other"
        let server = try #require(try resolve(commandLine, layer).get().amiServers.first)
        #expect(server == AMIServerSettings(name: "default", host: "pbx", port: 5039, user: "other",
                                            secret: .secretFile(path: "/etc/spoold/s"), tls: true, md5: false,
                                            weight: 1, maxConcurrent: 0, maxCps: 0))
        commandLine.ami.secret = .file("/run/flag-secret")
        commandLine.ami.port = 6000
        let flagged = try #require(try resolve(commandLine, layer).get().amiServers.first)
        #expect(flagged.secret == .secretFile(path: "/run/flag-secret"))
        #expect(flagged.port == 6000)
    }

    @Test("[ami:NAME] sections become the server list in file order, with their limits")
    func sections() throws {
        let layer = file("""
            [general]
            ami_selection = spread
            [ami:pbx1]
            host = a
            user = u1
            secret = one
            weight = 2
            max_concurrent = 4
            [ami:pbx2]
            host = b
            user = u2
            secret_file = /s2
            max_cps = 1.5
            """)
        let settings = try resolve(flags, layer).get()
        #expect(settings.amiSelection == .spread)
        #expect(settings.amiServers.map(\.name) == ["pbx1", "pbx2"])
        #expect(settings.amiServers[0].secret == .configFile(path: "/etc/spoold/spoold.conf", line: 6, SecretValue("one")))
        #expect(settings.amiServers[0].weight == 2)
        #expect(settings.amiServers[0].maxConcurrent == 4)
        #expect(settings.amiServers[1].maxCps == 1.5)
        #expect(settings.amiServers[1].port == 5038)
    }

    @Test("--ami-* flags cannot edit [ami:NAME] servers")
    func flagsWithSections() {
        var commandLine = flags
        commandLine.ami.host = "x"
        let result = resolve(commandLine, file("[ami:a]\nuser = u\nsecret = s\n"))
        #expect(result.errorLines == ["command line: --ami-*: /etc/spoold/spoold.conf defines its AMI servers in [ami:NAME] sections; change them there (the --ami-* flags describe a single server)"])
    }

    @Test("The ami backend without a user says where to set one")
    func missingUser() {
        #expect(resolve(flags, nil).errorLines.first?.hasPrefix("command line: --ami-user: the ami backend needs an AMI user: set ami_user in [general]") == true)
        #expect(resolve(flags, file("[ami:pbx1]\nhost = a\n")).errorLines
            == ["/etc/spoold/spoold.conf:1: [ami:pbx1]: needs user (the manager.conf section spoold logs in as)"])
    }

    @Test("No secret anywhere is an error naming every place one may go")
    func missingSecret() {
        #expect(resolve(flags, file("[ami:pbx1]\nuser = u\n")).errorLines
            == ["/etc/spoold/spoold.conf:1: [ami:pbx1]: no AMI secret for server pbx1: set secret_file or secret, or SPOOLD_AMI_SECRET_PBX1 or SPOOLD_AMI_SECRET in the environment"])
    }

    @Test("Secret sources: SPOOLD_AMI_SECRET_<NAME>, then the file, then SPOOLD_AMI_SECRET")
    func secretOrder() throws {
        let layer = file("[ami:pbx-1]\nuser = u\nsecret = in-file\n[ami:pbx2]\nuser = u\n")
        let environment = ["SPOOLD_AMI_SECRET_PBX_1": "specific", "SPOOLD_AMI_SECRET": "generic"]
        let servers = try resolve(flags, layer, environment: environment).get().amiServers
        #expect(servers[0].secret == .environment(variable: "SPOOLD_AMI_SECRET_PBX_1", SecretValue("specific")))
        #expect(servers[1].secret == .environment(variable: "SPOOLD_AMI_SECRET", SecretValue("generic")))
        let fileWins = try resolve(flags, layer, environment: ["SPOOLD_AMI_SECRET": "generic"]).get().amiServers
        #expect(fileWins[0].secret == .configFile(path: "/etc/spoold/spoold.conf", line: 3, SecretValue("in-file")))
        // An empty variable counts as unset.
        #expect(try resolve(flags, layer, environment: ["SPOOLD_AMI_SECRET_PBX_1": "", "SPOOLD_AMI_SECRET": "g"]).get()
            .amiServers[0].secret == .configFile(path: "/etc/spoold/spoold.conf", line: 3, SecretValue("in-file")))
    }

    @Test("A secret never shows when printed")
    func secretRedacted() {
        let value = SecretValue("hunter2")
        #expect("\(value)" == "********")
        #expect(String(reflecting: value) == "SecretValue(********)")
        #expect(!"\(SecretSource.environment(variable: "V", value))".contains("hunter2"))
        #expect(!"\(SecretSource.configFile(path: "/c", line: 2, value))".contains("hunter2"))
    }

    @Test("Limit sections pass through in file order")
    func limits() throws {
        var commandLine = flags
        commandLine.backend = .simulate
        let settings = try resolve(commandLine, file("[limit:A/*]\nmax_cps = 1\n[limit:B/*]\nmax_concurrent = 2\n")).get()
        #expect(settings.trunkLimits.map(\.pattern) == ["A/*", "B/*"])
    }
}

extension Result where Failure == ConfigErrors {
    var errorLines: [String] {
        if case .failure(let errors) = self { return errors.errors.map(\.description) }
        return []
    }
}

@Suite("The --limit flag")
struct LimitFlagTests {
    @Test("PATTERN=N[,R], numbers after the last =")
    func parses() throws {
        #expect(try TrunkLimitSettings(flag: "PJSIP/*@trunk-a=10,2.5") == TrunkLimitSettings(pattern: "PJSIP/*@trunk-a", maxConcurrent: 10, maxCps: 2.5))
        #expect(try TrunkLimitSettings(flag: "Local/a=b=3") == TrunkLimitSettings(pattern: "Local/a=b", maxConcurrent: 3, maxCps: 0))
    }

    @Test("Bad values say what is expected", arguments: [
        ("PJSIP/*", "command line: --limit: \"PJSIP/*\": expected PATTERN=MAX_CONCURRENT[,MAX_CPS], e.g. PJSIP/*@trunk-a=10,2"),
        ("=3", "command line: --limit: \"=3\": the channel pattern is empty"),
        ("X=1,2,3", "command line: --limit: \"X=1,2,3\": expected at most two numbers after =, MAX_CONCURRENT and MAX_CPS"),
        ("X=-1", "command line: --limit: \"X=-1\": max_concurrent \"-1\" is not valid; expected a whole number of calls, 0 (no limit) or more"),
        ("X=1,fast", "command line: --limit: \"X=1,fast\": max_cps \"fast\" is not valid; expected new calls per second"),
    ])
    func rejects(flag: String, expected: String) {
        #expect(throws: ConfigError.self) { try TrunkLimitSettings(flag: flag) }
        do {
            _ = try TrunkLimitSettings(flag: flag)
        } catch {
            #expect(error.description.hasPrefix(expected), "\(error)")
        }
    }

    @Test("A --limit replaces the file's section of the same pattern and keeps the others")
    func precedence() throws {
        let (file, errors) = SettingsReader.read(Array("[general]\nbackend = simulate\n[limit:A/*]\nmax_cps = 1\n[limit:B/*]\nmax_cps = 2\n".utf8), file: "f")
        #expect(errors.isEmpty)
        var flags = SettingsLayer(source: SettingsLayer.commandLine)
        flags.trunkLimits = [try TrunkLimitSettings(flag: "B/*=4")]
        let settings = try SpooldSettings.resolve(commandLine: flags, file: file, environment: [:]).get()
        #expect(settings.trunkLimits == [
            TrunkLimitSettings(pattern: "A/*", maxConcurrent: 0, maxCps: 1),
            TrunkLimitSettings(pattern: "B/*", maxConcurrent: 4, maxCps: 0),
        ])
    }
}
