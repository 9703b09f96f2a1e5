import AMITestServer
import Foundation
import Testing
import TestSupport

/// `spoold originate` (issue 8): the built binary places one call through the in-process test AMI server
/// and reports it; the server's Originate log shows what reached "Asterisk".
@Suite("spoold originate")
struct OriginateEndToEndTests {
    static func originate(_ ami: AMIHarness, _ call: [String], extra: [String] = []) async throws -> ToolRun {
        try await ToolRun.run(BuiltProducts.spoold, ["originate"] + call + ami.spooldArguments + extra)
    }

    /// A test server and its secret file for the body; the server is stopped afterwards.
    static func withAMI(_ body: (AMIHarness) async throws -> Void) async throws {
        let spool = try TemporarySpool()
        let ami = try await AMIHarness.start(spool: spool)
        do {
            try await body(ami)
        } catch {
            try? await ami.server.stop()
            throw error
        }
        try await ami.server.stop()
    }

    static func lines(_ run: ToolRun) -> [String] {
        run.stdout.split(separator: "\n").map(String.init)
    }

    @Test("Answered: queued, answered, hung up, exit 0; one Originate mapped as the engine maps attempt 1")
    func answered() async throws {
        try await Self.withAMI { ami in
            let run = try await Self.originate(ami, [
                "--channel", "PJSIP/answer/50/50", "--app", "Playback", "--data", "hello-world", "--wait-time", "7",
                "--set", "A=1", "--set", "A=2", "--callerid", "\"Wakeup\" <100>",
            ])
            #expect(run.status == 0, "\(run)")
            let lines = Self.lines(run)
            #expect(lines.count == 4, "\(run)")
            #expect(lines.first?.hasPrefix("connected: AMI 11.0.0") == true)
            #expect(lines.dropFirst().first?.hasPrefix("queued: ChannelId spoold-") == true)
            #expect(lines.dropFirst(2).first?.hasPrefix("answered: PJSIP/answer/50/50-") == true)
            #expect(lines.last == "hung up: cause 16 (Normal Clearing)")

            let originates = ami.originates(channel: "PJSIP/answer/50/50")
            try #require(originates.count == 1)
            let sent = originates[0]
            #expect(sent.value("Async") == "true")
            #expect(sent.value("Timeout") == "7000")
            #expect(sent.value("Application") == "Playback")
            #expect(sent.value("Data") == "hello-world")
            #expect(sent.value("CallerID") == "\"Wakeup\" <100>")
            // The last Set of a name wins, as for call files; then the attempt number.
            #expect(sent.values("Variable") == ["A=2", "AST_OUTGOING_ATTEMPT=1"])
            #expect(sent.value("Codecs") == "slin")
            let channelId = try #require(sent.channelId)
            #expect(lines.dropFirst().first == "queued: ChannelId \(channelId)")
            #expect(!run.stdout.contains(ami.server.configuration.secret) && !run.stderr.contains(ami.server.configuration.secret))
        }
    }

    @Test("Busy: failed with reason 5 and Asterisk's text, exit 1")
    func busy() async throws {
        try await Self.withAMI { ami in
            let run = try await Self.originate(ami, ["--channel", "PJSIP/busy", "--context", "from-spool", "--exten", "100"])
            #expect(run.status == 1, "\(run)")
            #expect(Self.lines(run).last == "failed: reason 5 (Remote end is Busy) on PJSIP/busy", "\(run)")
            let sent = try #require(ami.originates(channel: "PJSIP/busy").first)
            #expect(sent.value("Context") == "from-spool" && sent.value("Exten") == "100" && sent.value("Priority") == "1")
        }
    }

    @Test("Refused by Asterisk: the Response: Error message, exit 1")
    func rejected() async throws {
        try await Self.withAMI { ami in
            let run = try await Self.originate(ami, ["--channel", "PJSIP/answer", "--context", "nonexistent", "--exten", "1"])
            #expect(run.status == 1, "\(run)")
            #expect(Self.lines(run).last == "rejected: Extension does not exist.", "\(run)")
        }
    }

    @Test("Wrong secret: authentication failed on stderr, exit 1, nothing dialled")
    func wrongSecret() async throws {
        try await Self.withAMI { ami in
            try FileSystem.write(Array("not-the-secret\n".utf8), to: ami.secretFile, mode: 0o600)
            let run = try await Self.originate(ami, ["--channel", "PJSIP/answer", "--app", "Echo"])
            #expect(run.status == 1, "\(run)")
            #expect(run.stderr == "originate: authentication failed: Authentication failed\n", "\(run)")
            #expect(!run.stdout.contains("queued"))
            #expect(ami.server.originates.isEmpty)
        }
    }

    @Test("Nothing listening: connection refused, exit 1")
    func connectionRefused() async throws {
        let spool = try TemporarySpool()
        let ami = try await AMIHarness.start(spool: spool)
        try await ami.server.stop()
        let run = try await Self.originate(ami, ["--channel", "PJSIP/answer", "--app", "Echo"])
        #expect(run.status == 1, "\(run)")
        #expect(run.stderr.hasPrefix("originate: connection refused"), "\(run)")
    }

    @Test("--debug shows the AMI exchange with the secret and the MD5 key masked")
    func debugMasksSecrets() async throws {
        try await Self.withAMI { ami in
            let secret = ami.server.configuration.secret
            let plain = try await Self.originate(ami, ["--channel", "PJSIP/answer", "--app", "Echo"], extra: ["--debug"])
            #expect(plain.status == 0, "\(plain)")
            #expect(plain.stderr.contains("> Action: Login"))
            #expect(plain.stderr.contains("> Secret: ********"))
            #expect(plain.stderr.contains("> Action: Originate"))
            #expect(plain.stderr.contains("< Event: OriginateResponse"))
            #expect(!plain.stderr.contains(secret))

            let md5 = try await Self.originate(ami, ["--channel", "PJSIP/answer", "--app", "Echo"], extra: ["--debug", "--ami-md5"])
            #expect(md5.status == 0, "\(md5)")
            #expect(md5.stderr.contains("> Key: ********"))
            #expect(!md5.stderr.contains(secret))
        }
    }

    @Test("Retry and archive flags are refused: one attempt, no file")
    func spoolOnlyFlagsRefused() async throws {
        try await Self.withAMI { ami in
            let run = try await Self.originate(ami, ["--channel", "PJSIP/answer", "--app", "Echo", "--max-retries", "2"])
            #expect(run.status != 0)
            #expect(run.stderr.contains("--max-retries only applies to call files"), "\(run)")
            #expect(ami.server.originates.isEmpty)
        }
    }

    @Test("Over HTTP (/rawman cookie login, or digest on /arawman with --ami-md5): answered, exit 0", arguments: [false, true])
    func overHTTP(digest: Bool) async throws {
        let spool = try TemporarySpool()
        let secret = "e2e-http-secret"
        let server = try await AMIHTTPTestServer.start(configuration: AMITestServerConfiguration(secret: secret))
        let secretFile = spool.root + "/ami.secret"
        do {
            try FileSystem.write(Array(secret.utf8), to: secretFile, mode: 0o600)
            let run = try await ToolRun.run(BuiltProducts.spoold, [
                "originate", "--channel", "PJSIP/answer/20/20", "--app", "Echo", "--ami-transport", "http",
                "--ami-port", "\(server.port)", "--ami-user", "spoold", "--ami-secret-file", secretFile,
            ] + (digest ? ["--ami-md5", "--debug"] : []))
            #expect(run.status == 0, "\(run)")
            let lines = Self.lines(run)
            #expect(lines.first == "connected: AMI over HTTP at 127.0.0.1:\(server.port)", "\(run)")
            #expect(lines.dropFirst(2).first?.hasPrefix("answered: PJSIP/answer/20/20-") == true, "\(run)")
            #expect(lines.last == "hung up: cause 16 (Normal Clearing)", "\(run)")
            #expect(server.originates.count == 1)
            #expect(!run.stderr.contains(secret))
        } catch {
            try? await server.stop()
            throw error
        }
        try await server.stop()
    }

    @Test("spoold run --backend ami --ami-transport http: a call file is dialled over /rawman and Completed")
    func runOverHTTP() async throws {
        let spool = try TemporarySpool()
        let secret = "e2e-http-run-secret"
        let server = try await AMIHTTPTestServer.start(configuration: AMITestServerConfiguration(secret: secret))
        let secretFile = spool.root + "/ami.secret"
        do {
            try FileSystem.write(Array(secret.utf8), to: secretFile, mode: 0o600)
            let arguments = ["--ami-transport", "http", "--ami-host", "127.0.0.1", "--ami-port", "\(server.port)",
                             "--ami-user", "spoold", "--ami-secret-file", secretFile]
            try await withSpoold(spool: spool, arguments: arguments, backend: "ami") { spoold in
                try spool.submit("http.call", callFile([
                    "Channel": "PJSIP/answer/20/20", "Application": "Echo", "WaitTime": "5", "Archive": "yes",
                ]))
                let file = try await spool.waitForArchive("http.call", by: spoold)
                #expect(file.status == "Completed", "\(file.text)")
                #expect(server.originates.count == 1)
                #expect(!spoold.log.contains(secret))
            }
        } catch {
            try? await server.stop()
            throw error
        }
        try await server.stop()
    }
}
