import Logging
import Testing
@testable import SpooldConfig

@Suite("spoold.conf meaning: sections, keys and values")
struct SettingsReaderTests {
    func read(_ text: String) -> (layer: SettingsLayer, errors: [String]) {
        let (layer, errors) = SettingsReader.read(Array(text.utf8), file: "/etc/spoold/spoold.conf")
        return (layer, errors.map(\.description))
    }

    @Test("Every [general] key, typed")
    func general() {
        let (layer, errors) = read("""
            [general]
            spool_dir = /srv/spool
            backend = simulate
            max_concurrent = 7
            max_cps = 2.5
            finish_at_answer = yes
            poll = off
            log_level = Debug
            ami_selection = spread
            ami_host = pbx.example
            ami_port = 5039
            ami_user = spoold
            ami_secret_file = /etc/spoold/ami.secret
            ami_tls = true
            ami_md5 = 1
            """)
        #expect(errors.isEmpty)
        #expect(layer.spoolDir == "/srv/spool")
        #expect(layer.backend == .simulate)
        #expect(layer.maxConcurrent == 7)
        #expect(layer.maxCps == 2.5)
        #expect(layer.finishAtAnswer == true)
        #expect(layer.poll == false)
        #expect(layer.logLevel == .debug)
        #expect(layer.amiSelection == .spread)
        #expect(layer.ami == AMIServerFields(host: "pbx.example", port: 5039, user: "spoold",
                                             secret: .file("/etc/spoold/ami.secret"), tls: true, md5: true))
        #expect(layer.generalLine == 1)
    }

    @Test("[ami:NAME] sections in file order, user or username, and [limit:PATTERN] sections")
    func serversAndLimits() {
        let (layer, errors) = read("""
            [ami:pbx1]
            host = 10.0.0.1
            username = spoold
            secret = s3cr\\;t
            weight = 3
            max_concurrent = 20
            max_cps = 5

            [ami:pbx-2]
            host = 10.0.0.2
            user = spoold
            secret_file = /etc/spoold/pbx2.secret
            tls = yes
            md5 = no

            [limit:PJSIP/*@trunk-a]
            max_concurrent = 10
            max_cps = 2

            [LIMIT:SIP/*]
            max_cps = 1
            """)
        #expect(errors.isEmpty, "\(errors)")
        #expect(layer.amiSections.map(\.name) == ["pbx1", "pbx-2"])
        #expect(layer.amiSections[0] == AMIServerSection(
            name: "pbx1", line: 1,
            fields: AMIServerFields(host: "10.0.0.1", user: "spoold", secret: .inline(SecretValue("s3cr;t"), line: 4)),
            weight: 3, maxConcurrent: 20, maxCps: 5))
        #expect(layer.amiSections[1].fields == AMIServerFields(host: "10.0.0.2", user: "spoold", secret: .file("/etc/spoold/pbx2.secret"), tls: true, md5: false))
        #expect(layer.trunkLimits == [
            TrunkLimitSettings(pattern: "PJSIP/*@trunk-a", maxConcurrent: 10, maxCps: 2),
            TrunkLimitSettings(pattern: "SIP/*", maxConcurrent: 0, maxCps: 1),
        ])
    }

    @Test("Keys are case-insensitive")
    func caseInsensitive() {
        let (layer, errors) = read("[GENERAL]\nMax_CPS = 3\n")
        #expect(errors.isEmpty)
        #expect(layer.maxCps == 3)
    }

    @Test("AMI over HTTP is chosen in the file; a bad transport or path is refused with what is expected")
    func httpTransport() throws {
        let (layer, errors) = read("[general]\nami_transport = HTTP\nami_http_prefix = /asterisk/rawman\n")
        #expect(errors.isEmpty, "\(errors)")
        #expect(layer.amiTransport == .http)
        #expect(layer.amiHttpPrefix == "/asterisk/rawman")
        var flags = SettingsLayer(source: SettingsLayer.commandLine)
        flags.backend = .simulate
        let settings = try SpooldSettings.resolve(commandLine: flags, file: layer, environment: [:]).get()
        #expect(settings.amiTransport == .http)
        #expect(settings.amiHttpPrefix == "/asterisk/rawman")
        flags.amiTransport = .tcp  // a flag wins
        #expect(try SpooldSettings.resolve(commandLine: flags, file: layer, environment: [:]).get().amiTransport == .tcp)

        #expect(read("[general]\nami_transport = udp\n").errors
            == ["/etc/spoold/spoold.conf:2: ami_transport: \"udp\" is not valid; expected tcp or http"])
        #expect(read("[general]\nami_http_prefix = rawman?x\n").errors.first?
            .hasPrefix("/etc/spoold/spoold.conf:2: ami_http_prefix: \"rawman?x\" is not valid; expected a path starting with /") == true)
    }

    @Test("Each [ami:NAME] server chooses its transport and TLS; ami_transport is the default for the others")
    func perServerTransportAndTLS() throws {
        let (layer, errors) = read("""
            [general]
            ami_transport = http
            ami_http_prefix = /asterisk/rawman

            [ami:over-tcp]
            host = 10.0.0.1
            user = spoold
            secret = a
            transport = tcp
            tls = yes
            tls_ca_file = /etc/spoold/ca.pem
            tls_server_name = pbx1.example.org

            [ami:over-https]
            host = 10.0.0.2
            user = spoold
            secret = b
            tls = yes
            tls_verify = no

            [ami:over-http]
            host = 10.0.0.3
            user = spoold
            secret = c
            http_prefix = /other/rawman
            """)
        #expect(errors.isEmpty, "\(errors)")
        #expect(layer.amiSections[0].fields.transport == .tcp)
        #expect(layer.amiSections[0].fields.tlsCAFile == "/etc/spoold/ca.pem")
        #expect(layer.amiSections[0].fields.tlsServerName == "pbx1.example.org")
        #expect(layer.amiSections[1].fields.tlsVerify == false)
        var flags = SettingsLayer(source: SettingsLayer.commandLine)
        flags.backend = .ami
        let servers = try SpooldSettings.resolve(commandLine: flags, file: layer, environment: [:]).get().amiServers
        #expect(servers.map(\.transport) == [.tcp, .http, .http])
        #expect(servers.map(\.port) == [5039, 8089, 8088])
        #expect(servers.map(\.httpPrefix) == ["/asterisk/rawman", "/asterisk/rawman", "/other/rawman"])
        #expect(servers.map(\.tlsVerify) == [true, false, true])
        #expect(servers[0].tlsCAFile == "/etc/spoold/ca.pem" && servers[0].tlsServerName == "pbx1.example.org")
        #expect(servers[1].tlsCAFile == nil && servers[1].tlsServerName == nil)

        #expect(read("[ami:a]\ntransport = sctp\n").errors.contains("/etc/spoold/spoold.conf:2: transport: \"sctp\" is not valid; expected tcp or http"))
        #expect(read("[ami:a]\ntls_ca_file = ca.pem\n").errors.first?.hasPrefix("/etc/spoold/spoold.conf:2: tls_ca_file: \"ca.pem\" is not valid") == true)
        #expect(read("[ami:a]\ntls_verify = maybe\n").errors.first?.hasPrefix("/etc/spoold/spoold.conf:2: tls_verify:") == true)
    }

    @Test("TLS settings without TLS are an error naming them; the single server's keys and flags alike")
    func tlsSettingsNeedTLS() throws {
        let (layer, errors) = read("""
            [ami:pbx]
            user = spoold
            secret = a
            tls_ca_file = /etc/spoold/ca.pem
            tls_verify = yes
            """)
        #expect(errors.isEmpty, "\(errors)")
        var flags = SettingsLayer(source: SettingsLayer.commandLine)
        flags.backend = .ami
        let failure = SpooldSettings.resolve(commandLine: flags, file: layer, environment: [:])
        guard case .failure(let found) = failure else {
            Issue.record("accepted tls_ca_file without tls")
            return
        }
        #expect(found.errors.map(\.description) == [
            "/etc/spoold/spoold.conf:1: [ami:pbx]: tls_ca_file, tls_verify set for server pbx, but TLS is off; set tls = yes (or remove them)"])

        let general = read("[general]\nami_user = spoold\nami_secret = a\nami_tls_server_name = pbx.example.org\nami_tls = yes\n")
        #expect(general.errors.isEmpty, "\(general.errors)")
        #expect(general.layer.ami.tlsServerName == "pbx.example.org")
        let single = try SpooldSettings.resolve(commandLine: flags, file: general.layer, environment: [:]).get().amiServers
        #expect(single.first?.tlsServerName == "pbx.example.org" && single.first?.tls == true)
        flags.ami.tls = false  // --no-ami-tls over the file's ami_tls = yes
        guard case .failure(let refused) = SpooldSettings.resolve(commandLine: flags, file: general.layer, environment: [:]) else {
            Issue.record("accepted ami_tls_server_name with --no-ami-tls")
            return
        }
        #expect(refused.errors.first?.message.contains("ami_tls_server_name set for server default, but TLS is off; set ami_tls = yes") == true)
    }

    @Test("The observability, log format and shutdown keys, typed; flags win over them")
    func operationKeys() throws {
        let (layer, errors) = read("""
            [general]
            log_format = JSON
            shutdown_grace = 2.5
            metrics_listen = 127.0.0.1:9330
            metrics_allow_remote = no
            result_log = /var/log/spoold/results.jsonl
            on_finish = logger "$SPOOLD_FILE"
            on_finish_concurrency = 2
            on_finish_timeout = 12
            """)
        #expect(errors.isEmpty, "\(errors)")
        var flags = SettingsLayer(source: SettingsLayer.commandLine)
        flags.backend = .simulate
        var settings = try SpooldSettings.resolve(commandLine: flags, file: layer, environment: [:]).get()
        #expect(settings.logFormat == .json)
        #expect(settings.shutdownGrace == 2.5)
        #expect(settings.metricsListen == "127.0.0.1:9330" && settings.metricsAllowRemote == false)
        #expect(settings.resultLog == "/var/log/spoold/results.jsonl")
        #expect(settings.onFinish == "logger \"$SPOOLD_FILE\"")
        #expect(settings.onFinishConcurrency == 2 && settings.onFinishTimeout == 12)
        flags.onFinishConcurrency = 9
        flags.resultLog = "/tmp/r.jsonl"
        settings = try SpooldSettings.resolve(commandLine: flags, file: layer, environment: [:]).get()
        #expect(settings.onFinishConcurrency == 9 && settings.resultLog == "/tmp/r.jsonl")

        #expect(read("[general]\nresult_log = results.jsonl\n").errors
            == ["/etc/spoold/spoold.conf:2: result_log: \"results.jsonl\" is not valid; expected an absolute path (starting with /)"])
        #expect(read("[general]\non_finish_timeout = 0\n").errors
            == ["/etc/spoold/spoold.conf:2: on_finish_timeout: \"0\" is not valid; expected seconds from 0.001 to 86400, e.g. 10 or 2.5"])
    }

    @Test("Unknown keys name file:line and key, with a suggestion when close", arguments: [
        ("[general]\nmax_cp = 5\n", "/etc/spoold/spoold.conf:2: max_cp: unknown key in [general]; did you mean max_cps?"),
        ("[general]\nmax-concurrent = 5\n", "/etc/spoold/spoold.conf:2: max-concurrent: unknown key in [general]; did you mean max_concurrent?"),
        ("[general]\nspooldir = /x\n", "/etc/spoold/spoold.conf:2: spooldir: unknown key in [general]; did you mean spool_dir?"),
        ("[general]\nweight = 2\n", "/etc/spoold/spoold.conf:2: weight: unknown key in [general]; weight belongs in an [ami:NAME] section"),
        ("[ami:a]\nhostt = x\n", "/etc/spoold/spoold.conf:2: hostt: unknown key in [ami:a]; did you mean host?"),
        ("[ami:a]\nlog_level = debug\n", "/etc/spoold/spoold.conf:2: log_level: unknown key in [ami:a]; log_level belongs in [general]"),
        ("[limit:X/*]\nhost = a\n", "/etc/spoold/spoold.conf:2: host: unknown key in [limit:X/*]; host belongs in an [ami:NAME] section"),
        ("[general]\ncolour = blue\n", "/etc/spoold/spoold.conf:2: colour: unknown key in [general]; known keys: spool_dir, backend"),
    ])
    func unknownKeys(input: String, expected: String) {
        let errors = read(input).errors
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix(expected) == true, "\(errors)")
    }

    @Test("Bad values name file, line, key and what is expected", arguments: [
        ("max_concurrent = -1", "3: max_concurrent: \"-1\" is not valid; expected a whole number of calls, 0 (no limit) or more"),
        ("max_concurrent = many", "3: max_concurrent: \"many\" is not valid; expected a whole number"),
        ("max_cps = fast", "3: max_cps: \"fast\" is not valid; expected new calls per second, 0 (no limit) or more"),
        ("max_cps = inf", "3: max_cps: \"inf\" is not valid"),
        ("max_cps = -2", "3: max_cps: \"-2\" is not valid"),
        ("poll = maybe", "3: poll: \"maybe\" is not a yes/no value; expected yes or no"),
        ("backend = sip", "3: backend: \"sip\" is not valid; expected ami or simulate"),
        ("log_level = loud", "3: log_level: \"loud\" is not valid; expected trace, debug, info, notice, warning, error or critical"),
        ("spool_dir = var/spool", "3: spool_dir: \"var/spool\" is not valid; expected an absolute path"),
        ("ami_selection = random", "3: ami_selection: \"random\" is not valid; expected failover or spread"),
        ("ami_port = 70000", "3: ami_port: \"70000\" is not valid; expected a TCP port from 1 to 65535"),
        ("ami_host =", "3: ami_host: is empty; expected a host name or address"),
        ("ami_secret =", "3: ami_secret: is empty; expected the AMI secret (or use ami_secret_file)"),
        ("ami_secret_file = secret.txt", "3: ami_secret_file: \"secret.txt\" is not valid; expected an absolute path"),
    ])
    func badValues(line: String, expected: String) {
        let errors = read("; header\n[general]\n\(line)\n").errors
        #expect(errors == ["/etc/spoold/spoold.conf:" + expected] || errors.first?.hasPrefix("/etc/spoold/spoold.conf:" + expected) == true,
                "\(errors)")
    }

    @Test("A bad secret is reported without echoing anything from it")
    func secretNeverEchoed() {
        let errors = read("[ami:a]\nsecret = hunter2\nsecret_file = /x\n").errors
        #expect(errors == ["/etc/spoold/spoold.conf:3: secret_file: secret and secret_file are both set; keep one"])
    }

    @Test("A server's weight is 1 to 1000")
    func weight() {
        #expect(read("[ami:a]\nweight = 0\n").errors.first?.contains("weight: \"0\" is not valid; expected a whole number from 1 to 1000") == true)
    }

    @Test("A key set twice is an error naming both lines (user and username are the same key)")
    func duplicateKeys() {
        #expect(read("[general]\npoll = yes\nPOLL = no\n").errors
            == ["/etc/spoold/spoold.conf:3: POLL: set twice in [general] (first at line 2, as poll); keep one"])
        #expect(read("[ami:a]\nuser = x\nusername = y\n").errors
            == ["/etc/spoold/spoold.conf:3: username: set twice in [ami:a] (first at line 2, as user); keep one"])
    }

    @Test("A section given twice is an error naming the first")
    func duplicateSections() {
        #expect(read("[general]\n[ami:a]\n[General]\n[ami:a]\n[limit:X]\nmax_cps=1\n[limit:X]\nmax_cps=2\n").errors == [
            "/etc/spoold/spoold.conf:3: [General]: section appears twice (first at line 1); merge the two into one",
            "/etc/spoold/spoold.conf:4: [ami:a]: section appears twice (first at line 2); merge the two into one",
            "/etc/spoold/spoold.conf:7: [limit:X]: section appears twice (first at line 5); merge the two into one",
        ])
    }

    @Test("Unknown sections, bad server names, empty patterns and empty limit sections")
    func sectionErrors() {
        #expect(read("[generla]\n").errors == ["/etc/spoold/spoold.conf:1: [generla]: unknown section; expected [general], [ami:NAME] (an AMI server), [limit:PATTERN] (limits for a channel pattern), [window:PATTERN] (when such calls may ring) or [retry:PATTERN] (retry delays per outcome); did you mean [general]?"])
        #expect(read("[ami]\n").errors.first?.hasSuffix("did you mean [ami:NAME]?") == true)
        #expect(read("[ami:pbx 1]\n").errors.first?.hasPrefix("/etc/spoold/spoold.conf:1: [ami:pbx 1]: a server name needs letters, digits, _ or - only") == true)
        #expect(read("[limit:]\n").errors == ["/etc/spoold/spoold.conf:1: [limit:]: a limit section needs a channel pattern, e.g. [limit:PJSIP/*@trunk-a]"])
        #expect(read("[limit:X/*]\n").errors == ["/etc/spoold/spoold.conf:1: [limit:X/*]: sets no limit; add max_concurrent and/or max_cps"])
    }

    @Test("ami_* keys in [general] and [ami:NAME] sections cannot be mixed")
    func mixedServerStyles() {
        #expect(read("[general]\nami_selection = spread\nami_host = a\n[ami:b]\nuser = x\n").errors
            == ["/etc/spoold/spoold.conf:3: ami_host: ami_* keys in [general] cannot be combined with [ami:NAME] sections (first at line 4); move them into an [ami:NAME] section"])
    }

    @Test("Every error is reported, in line order")
    func allErrors() {
        let errors = read("[general]\nmax_cps = x\nfoo = 1\n[bar]\npoll = maybe\n").errors
        #expect(errors.map { $0.split(separator: ":")[1] } == ["2", "3", "4"])
    }
}
