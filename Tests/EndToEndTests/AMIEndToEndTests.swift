import AMITestServer
import ByteText
import Foundation
import TestSupport
import Testing

/// Contract §3 (placing a call through AMI) and the AMI half of §2.2 (adoption after a crash), against the
/// in-process test server that answers as Asterisk 22 does.
@Suite("Through AMI")
struct AMIEndToEndTests {
    struct Outcome: Sendable, CustomTestStringConvertible {
        let channel: String
        let maxRetries: Int
        let status: String
        var testDescription: String { "\(channel), MaxRetries \(maxRetries) → \(status)" }
    }

    static let outcomes = [
        Outcome(channel: "PJSIP/answer", maxRetries: 1, status: "Completed"),
        Outcome(channel: "PJSIP/busy", maxRetries: 1, status: "Expired"),
        Outcome(channel: "PJSIP/congestion", maxRetries: 1, status: "Expired"),
        Outcome(channel: "PJSIP/noanswer", maxRetries: 1, status: "Expired"),
        Outcome(channel: "PJSIP/failure", maxRetries: 0, status: "Expired"),
    ]

    @Test("Each outcome: one async Originate per attempt, AST_OUTGOING_ATTEMPT counting up, Asterisk's records",
          arguments: outcomes)
    func outcome(_ outcome: Outcome) async throws {
        let spool = try TemporarySpool()
        let text = callFile([
            "Channel": outcome.channel, "WaitTime": "1", "MaxRetries": "\(outcome.maxRetries)", "RetryTime": "1",
            "Application": "Playback", "Data": "hello-world", "Archive": "yes",
        ])
        try await withAMISpoold(spool: spool) { ami, spoold in
            try spool.submit("ami.call", text)
            let file = try await spool.waitForArchive("ami.call", by: spoold)
            #expect(file.status == outcome.status)
            #expect(file.recordsAreWellFormed(after: text), "archived:\n\(file.text)")
            let attempts = file.records("StartRetry").count
            let expectedAttempts = outcome.status == "Completed" ? 1 : outcome.maxRetries + 1
            #expect(attempts == expectedAttempts)
            #expect(retrySpacingViolations(file.records, retryTime: 1).isEmpty)

            let originates = ami.originates(channel: outcome.channel)
            #expect(originates.count == expectedAttempts, "one Originate per attempt")
            for (index, originate) in originates.enumerated() {
                #expect(originate.value("Async")?.lowercased() == "true")
                #expect(originate.value("Timeout") == "1000")
                #expect(originate.value("Application") == "Playback")
                #expect(originate.value("Data") == "hello-world")
                #expect(originate.values("Variable").contains("AST_OUTGOING_ATTEMPT=\(index + 1)"))
                let channelId = try #require(originate.channelId)
                #expect(!channelId.isEmpty && channelId.count <= 149)
            }
            #expect(!spoold.log.contains(ami.server.configuration.secret), "the AMI secret reached the log")
            #expect(Set(originates.compactMap(\.actionID)).count == originates.count, "ActionIDs must be unique")
            #expect(Set(originates.compactMap(\.channelId)).count == originates.count, "ChannelIds must be unique")
        }
    }

    @Test("Values that are not UTF-8 reach the PBX as the very bytes of the file (contract §5), never U+FFFD")
    func bytesThatAreNotUTF8() async throws {
        let spool = try TemporarySpool()
        let data: [UInt8] = Array("caf".utf8) + [0xE9, 0xFF]
        let variable: [UInt8] = Array("GREETING=".utf8) + [0xC3, 0x28, 0xFE]
        let bytes = Array("Channel: PJSIP/answer\nApplication: Playback\nArchive: yes\nData: ".utf8) + data
            + Array("\nSet: ".utf8) + variable + [0x0A]
        try await withAMISpoold(spool: spool) { ami, spoold in
            try spool.submit("bytes.call", bytes: bytes)
            let file = try await spool.waitForArchive("bytes.call", by: spoold)
            #expect(file.status == "Completed")
            let originate = try #require(ami.originates(channel: "PJSIP/answer").first)
            #expect(ByteText.bytes(try #require(originate.value("Data"))) == data)
            #expect(originate.values("Variable").map(ByteText.bytes).contains(variable), "\(originate.values("Variable"))")
            #expect(!originate.headers.contains { $0.value.unicodeScalars.contains("\u{FFFD}") })
        }
    }

    @Test("The Originate carries exactly the parsed values: parsing rules, last Set wins, AST_OUTGOING_ATTEMPT overrides, Codecs from slin")
    func headersFromTheFile() async throws {
        let spool = try TemporarySpool()
        let text = """
        ; a comment line, then keys in odd cases
        cHaNnEl: PJSIP/answer
        Channel: no-slash-so-ignored
        CallerID: "Wakeup Svc" <(555) 555-1234>
        WaitTime: 7
        Account: acct-42
        Set: GREETING=first
        SetVar: GREETING=second
        Set: EQ=a=b
        Set: AST_OUTGOING_ATTEMPT=99
        Codecs: ulaw
        Context: from-spool
        Extension: 100#kept # cut here
        Priority: 2
        Early_Media: yes
        Data: ignored in extension mode
        Archive: yes

        """
        try await withAMISpoold(spool: spool) { ami, spoold in
            try spool.submit("headers.call", text)
            let file = try await spool.waitForArchive("headers.call", by: spoold)
            #expect(file.status == "Completed")
            let originate = try #require(ami.originates(channel: "PJSIP/answer").first)
            #expect(originate.value("Context") == "from-spool")
            #expect(originate.value("Exten") == "100#kept")
            #expect(originate.value("Priority") == "2")
            #expect(originate.value("Application") == nil)
            #expect(originate.value("Timeout") == "7000")
            #expect(originate.value("Account") == "acct-42")
            #expect(originate.value("EarlyMedia").map { ["true", "yes", "1"].contains($0.lowercased()) } == true)
            let callerID = try #require(originate.value("CallerID"))
            // Sent as parsed: either Asterisk's normalised form or the value AMI's own parser reads the same way.
            #expect(callerID.contains("Wakeup Svc") && callerID.filter(\.isNumber).contains("5555551234"),
                    "CallerID \(callerID)")
            let variables = originate.values("Variable")
            #expect(variables.filter { $0.hasPrefix("GREETING=") } == ["GREETING=second"])
            #expect(variables.contains("EQ=a=b"))
            #expect(variables.filter { $0.hasPrefix("AST_OUTGOING_ATTEMPT=") } == ["AST_OUTGOING_ATTEMPT=1"])
            let codecs = try #require(originate.value("Codecs")).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(Set(codecs) == ["slin", "ulaw"])
        }
    }

    @Test("Application mode wins over Extension; empty Context/Extension headers are omitted; \\; is a literal ;")
    func applicationMode() async throws {
        let spool = try TemporarySpool()
        let text = "Channel: PJSIP/answer\nApplication: Verbose\nData: 1,a\\;b;comment\nExtension: s\nArchive: yes\n"
        try await withAMISpoold(spool: spool) { ami, spoold in
            try spool.submit("app.call", text)
            #expect(try await spool.waitForArchive("app.call", by: spoold).status == "Completed")
            let originate = try #require(ami.originates(channel: "PJSIP/answer").first)
            #expect(originate.value("Application") == "Verbose")
            #expect(originate.value("Data") == "1,a;b")
            #expect(originate.value("Exten") == nil)
            #expect(originate.value("Context") == nil)
        }
    }

    @Test("Response: Error to the Originate is permanent: Failed, no retry, the message in the log", arguments: [
        ("Context", "nonexistent", "Extension does not exist."),
        ("Application", "System", "Originate Access Forbidden"),
    ])
    func errorResponseFails(key: String, value: String, message: String) async throws {
        let spool = try TemporarySpool()
        let target = key == "Context" ? "Context: \(value)\nExtension: s\n" : "Application: \(value)\nData: true\n"
        let text = "Channel: PJSIP/answer\nMaxRetries: 2\nRetryTime: 1\n" + target + "Archive: yes\n"
        try await withAMISpoold(spool: spool) { ami, spoold in
            try spool.submit("refused.call", text)
            let file = try await spool.waitForArchive("refused.call", by: spoold)
            #expect(file.status == "Failed")
            #expect(ami.originates(channel: "PJSIP/answer").count == 1, "a permanent error was retried")
            try await spoold.waitForLogLine("about refused.call with '\(message)'") {
                $0.contains("refused.call") && $0.contains(message)
            }
        }
    }

    @Test("'Asterisk is shutting down' is transient: the file waits, nothing is counted, then the call goes through")
    func shuttingDownIsTransient() async throws {
        var behaviour = AMITestServerConfiguration.Behaviour()
        behaviour.shuttingDown = true
        let spool = try TemporarySpool()
        let text = callFile(["Channel": "PJSIP/answer", "MaxRetries": "0", "RetryTime": "1", "Application": "Playback",
                             "Data": "x", "Archive": "yes"])
        try await withAMISpoold(spool: spool, behaviour: behaviour) { ami, spoold in
            try spool.submit("later.call", text)
            try await spoold.waitUntil("spoold to meet the refusal") { spoold.log.contains("shutting down") }
            let waits = try await holdsThroughout(.seconds(2)) { spool.isInOutgoing("later.call") }
            #expect(waits, "the file did not wait for Asterisk")
            ami.server.setBehaviour { $0.shuttingDown = false }
            let file = try await spool.waitForArchive("later.call", by: spoold, timeout: .seconds(60))
            #expect(file.status == "Completed", "MaxRetries 0: a counted refusal would have expired it")
            #expect(file.tags == ["StartRetry"])
        }
    }

    @Test("No OriginateResponse within WaitTime plus a margin is a failed attempt")
    func noResponseIsAFailedAttempt() async throws {
        var behaviour = AMITestServerConfiguration.Behaviour()
        behaviour.withholdOriginateResults = true
        let spool = try TemporarySpool()
        let text = callFile(["Channel": "PJSIP/answer", "WaitTime": "1", "MaxRetries": "0", "RetryTime": "1",
                             "Application": "Playback", "Data": "x", "Archive": "yes"])
        try await withAMISpoold(spool: spool, behaviour: behaviour) { ami, spoold in
            try spool.submit("silent.call", text)
            let file = try await spool.waitForArchive("silent.call", by: spoold, timeout: .seconds(90))
            #expect(file.status == "Expired")
            #expect(ami.originates(channel: "PJSIP/answer").count == 1)
        }
    }

    @Test("The connection drops after the call was queued: spoold finds the call still up and waits for its hangup; no second dial")
    func connectionDropAfterQueued() async throws {
        var behaviour = AMITestServerConfiguration.Behaviour()
        behaviour.disconnectAfterQueued = 1
        let spool = try TemporarySpool()
        // The call has to outlast spoold's reconnection (slower on a sanitized build).
        let channel = "PJSIP/answer/0/\(callLengthForTheTestToAct(milliseconds: 3000))"
        let text = callFile(["Channel": channel, "MaxRetries": "1", "RetryTime": "1",
                             "Application": "Playback", "Data": "x", "Archive": "yes"])
        try await withAMISpoold(spool: spool, behaviour: behaviour) { ami, spoold in
            try spool.submit("dropped.call", text)
            let file = try await spool.waitForArchive("dropped.call", by: spoold, timeout: .seconds(60))
            #expect(file.status == "Completed", "archived:\n\(file.text)")
            #expect(file.tags == ["StartRetry"])
            #expect(ami.originates(channel: channel).count == 1, "dialled twice")
            #expect(ami.server.connectionsAccepted >= 2, "spoold never reconnected")
        }
    }

    /// An endless call (it talks until the test hangs it up), so every kill lands while it is up.
    static let endlessChannel = "PJSIP/answer/0/600000"

    /// Starts spoold on `name`, waits until its call is up at the PBX, kills spoold with SIGKILL, then
    /// runs `body` with the call's ChannelId and the harness; the server is stopped afterwards.
    func afterKillDuringCall(_ name: String, channel: String = endlessChannel, maxRetries: Int = 1,
                             _ body: (TemporarySpool, AMIHarness, String) async throws -> Void) async throws {
        let spool = try TemporarySpool()
        let text = callFile(["Channel": channel, "MaxRetries": "\(maxRetries)", "RetryTime": "1", "WaitTime": "600",
                             "Application": "Playback", "Data": "x", "Archive": "yes"])
        let ami = try await AMIHarness.start(spool: spool)
        do {
            try spool.submit(name, text)
            let first = try await SpooldProcess.started(spool: spool, arguments: ami.spooldArguments, backend: "ami")
            try await first.waitUntil("the Originate to reach the PBX") { ami.originates(channel: channel).count == 1 }
            let channelId = try #require(ami.originates(channel: channel).first?.channelId)
            try await waitUntilAsync("the call to be up at the PBX") { await ami.server.channelIsUp(channelId) }
            first.kill()
            try await body(spool, ami, channelId)
            try await ami.server.stop()
        } catch {
            try? await ami.server.stop()
            throw error
        }
    }

    @Test("kill -9 during an AMI call, restart while the call is still up: adopted, Completed, dialled once")
    func crashAdoptsLiveCall() async throws {
        try await afterKillDuringCall("adopt.call") { spool, ami, channelId in
            #expect(await ami.server.channelIsUp(channelId))
            try await withSpoold(spool: spool, arguments: ami.spooldArguments, backend: "ami") { second in
                try await second.waitUntil("the restarted spoold to adopt the call") { second.log.contains("its call is still up") }
                #expect(await ami.server.hangUp(channelId))
                let file = try await spool.waitForArchive("adopt.call", by: second, timeout: .seconds(40))
                #expect(file.status == "Completed")
                #expect(file.tags == ["StartRetry"], "archived:\n\(file.text)")
                #expect(ami.originates(channel: Self.endlessChannel).count == 1, "the adopted call was dialled again")
            }
        }
    }

    @Test("kill -9 while the call still rings; adopted after the restart, it ends unanswered: a failed attempt, never Completed")
    func crashAdoptsRingingCall() async throws {
        let ringing = "PJSIP/noanswer/600000"
        try await afterKillDuringCall("ringing.call", channel: ringing, maxRetries: 0) { spool, ami, channelId in
            try await withSpoold(spool: spool, arguments: ami.spooldArguments, backend: "ami") { second in
                try await second.waitUntil("the restarted spoold to adopt the call") { second.log.contains("its call is still up") }
                #expect(await ami.server.hangUp(channelId))
                let file = try await spool.waitForArchive("ringing.call", by: second, timeout: .seconds(40))
                #expect(file.status == "Expired", "archived:\n\(file.text)")
                #expect(file.tags == ["StartRetry"])
                #expect(ami.originates(channel: ringing).count == 1)
                // Log lines go out from a writer thread: wait for it rather than read at once.
                try await second.waitForLog("hung up before answer")
            }
        }
    }

    @Test("kill -9 during an AMI call that ends while spoold is down: AbortRetry, then the retry rules")
    func crashCallGone() async throws {
        try await afterKillDuringCall("gone.call") { spool, ami, channelId in
            #expect(await ami.server.hangUp(channelId))
            try await withSpoold(spool: spool, arguments: ami.spooldArguments, backend: "ami") { second in
                try await second.waitUntil("the retry to reach the PBX") { ami.originates(channel: Self.endlessChannel).count == 2 }
                let retryId = try #require(ami.originates(channel: Self.endlessChannel).last?.channelId)
                try await waitUntilAsync("the retry to be up at the PBX") { await ami.server.channelIsUp(retryId) }
                #expect(await ami.server.hangUp(retryId))
                let file = try await spool.waitForArchive("gone.call", by: second, timeout: .seconds(40))
                #expect(file.status == "Completed")
                #expect(file.tags == ["StartRetry", "AbortRetry", "StartRetry"], "archived:\n\(file.text)")
                #expect(ami.originates(channel: Self.endlessChannel).count == 2)
                // Contract §2.13: the dial after the AbortRetry is numbered 2, in its StartRetry and on the
                // channel (Asterisk's spool would say 1 in both places).
                #expect(file.records("StartRetry").map(\.number) == [1, 2], "archived:\n\(file.text)")
                #expect(ami.originates(channel: Self.endlessChannel).map { $0.values("Variable").filter { $0.hasPrefix("AST_OUTGOING_ATTEMPT=") } }
                        == [["AST_OUTGOING_ATTEMPT=1"], ["AST_OUTGOING_ATTEMPT=2"]])

            }
        }
    }

    @Test("MD5 challenge login works and the secret never reaches the log")
    func md5Login() async throws {
        let spool = try TemporarySpool()
        let text = callFile(["Channel": "PJSIP/answer", "Application": "Playback", "Data": "x", "Archive": "yes"])
        try await withAMISpoold(spool: spool, arguments: ["--ami-md5"]) { ami, spoold in
            try spool.submit("md5.call", text)
            #expect(try await spool.waitForArchive("md5.call", by: spoold).status == "Completed")
            #expect(ami.originates(channel: "PJSIP/answer").count == 1)
            #expect(!spoold.log.contains(ami.server.configuration.secret))
        }
    }

    @Test("With no AMI connection the file waits and nothing is counted; once Asterisk is there the call goes through")
    func waitsForTheConnection() async throws {
        let spool = try TemporarySpool()
        // Learn a free port, then leave it closed until the file is waiting.
        let probe = try await AMIHarness.start(spool: spool)
        let port = probe.server.port
        try await probe.server.stop()
        let flags = ["--ami-host", "127.0.0.1", "--ami-port", "\(port)", "--ami-user", probe.server.configuration.username,
                     "--ami-secret-file", probe.secretFile]
        let text = callFile(["Channel": "PJSIP/answer", "MaxRetries": "0", "RetryTime": "1", "Application": "Playback",
                             "Data": "x", "Archive": "yes"])
        try await withSpoold(spool: spool, arguments: flags, backend: "ami") { spoold in
            try spool.submit("patient.call", text)
            let waited = try await holdsThroughout(.seconds(2)) {
                spool.isInOutgoing("patient.call") && spool.recordsInOutgoing("patient.call").isEmpty
            }
            #expect(waited, "an attempt was counted without a connection: \(spool.text(inOutgoing: "patient.call") ?? "gone")")

            let configuration = AMITestServerConfiguration(
                port: port, username: probe.server.configuration.username, secret: probe.server.configuration.secret)
            let server = try await AMITestServer.start(configuration: configuration)
            do {
                let file = try await spool.waitForArchive("patient.call", by: spoold, timeout: .seconds(60))
                #expect(file.status == "Completed", "MaxRetries 0: a counted attempt would have expired it")
                #expect(file.tags == ["StartRetry"])
                #expect(server.originates.count == 1)
                try await server.stop()
            } catch {
                try? await server.stop()
                throw error
            }
        }
    }

    @Test("--finish-at-answer archives the file Completed while the call is still up")
    func finishAtAnswer() async throws {
        let spool = try TemporarySpool()
        let channel = "PJSIP/answer/0/20000"
        let text = callFile(["Channel": channel, "Application": "Playback", "Data": "x", "Archive": "yes"])
        try await withAMISpoold(spool: spool, arguments: ["--finish-at-answer"]) { ami, spoold in
            try spool.submit("early.call", text)
            let file = try await spool.waitForArchive("early.call", by: spoold)
            #expect(file.status == "Completed")
            let channelId = try #require(ami.originates(channel: channel).first?.channelId)
            #expect(await ami.server.channelIsUp(channelId), "the 20 s call was already over")
        }
    }
}
