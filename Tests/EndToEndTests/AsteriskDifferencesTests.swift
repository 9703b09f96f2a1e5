import AMITestServer
import Foundation
import TestSupport
import Testing

/// Where spoold through AMI differs from Asterisk 22.10.1's own spool, as the contract decides
/// (§2.11, §2.12, "Limits of AMI itself"; §2.13 is asserted in `AMIEndToEndTests/crashCallGone`), against the
/// in-process test server that answers as Asterisk does.
@Suite("Deliberate differences from Asterisk's spool, through AMI")
struct AsteriskDifferencesTests {
    @Test("§2.11: an Extension that does not exist: the Originate is refused, nobody is rung, Failed with Asterisk's message")
    func missingExtension() async throws {
        let spool = try TemporarySpool()
        let resultLog = spool.root + "/results.jsonl"
        let text = "Channel: PJSIP/answer\nContext: default\nExtension: nonexistent\nMaxRetries: 2\nRetryTime: 1\nArchive: yes\n"
        try await withAMISpoold(spool: spool, arguments: ["--result-log", resultLog]) { ami, spoold in
            try spool.submit("noexten.call", text)
            let file = try await spool.waitForArchive("noexten.call", by: spoold)
            #expect(file.status == "Failed")
            #expect(file.tags == ["StartRetry"], "one attempt, never retried")
            #expect(ami.originates(channel: "PJSIP/answer").count == 1)
            #expect(ami.server.peakLiveChannels == 0, "nobody was rung")
            try await spoold.waitUntil("the result-log line") {
                (FileSystem.read(resultLog).map { String(decoding: $0, as: UTF8.self) } ?? "").contains("noexten.call")
            }
            let line = try JSONDecoder().decode(ResultLine.self, from: Data(FileSystem.read(resultLog) ?? []))
            #expect(line.status == "Failed")
            #expect(line.summary.contains("Extension does not exist."), "\(line.summary)")
            #expect(line.attempts.map(\.reason_text) == ["Extension does not exist."])
        }
    }

    @Test("§2.12: a call longer than RetryTime gets no DelayedRetry lines: one StartRetry, then Completed")
    func noDelayedRetry() async throws {
        let spool = try TemporarySpool()
        // Answered at once, talks 3.5 s: over three RetryTimes.
        let channel = "PJSIP/answer/0/3500"
        let text = callFile(["Channel": channel, "RetryTime": "1", "MaxRetries": "2", "Application": "Playback",
                             "Data": "x", "Archive": "yes"])
        try await withAMISpoold(spool: spool) { ami, spoold in
            let submitted = FileSystem.now()
            try spool.submit("long.call", text)
            let file = try await spool.waitForArchive("long.call", by: spoold)
            #expect(FileSystem.now() - submitted >= 3.5, "the call lasted its 3.5 s")
            #expect(file.status == "Completed")
            #expect(file.tags == ["StartRetry"], "archived:\n\(file.text)")
            #expect(!file.text.contains("DelayedRetry"))
            #expect(ami.originates(channel: channel).count == 1)
        }
    }

    /// A `Set:` line Asterisk's spool reads (1018 bytes) whose `Variable:` header is `length` bytes on the
    /// wire, CRLF included.
    static func setLine(variableLineLength length: Int) -> String {
        "Set: LONG=" + String(repeating: "v", count: length - "Variable: LONG=".count - 2)
    }

    @Test("AMI's line limit: a Variable header of 1024 bytes is sent whole; 1025 bytes: Failed before anything is sent, the log and the result saying why")
    func variableOverTheLineLimit() async throws {
        let spool = try TemporarySpool()
        let resultLog = spool.root + "/results.jsonl"
        let fits = Self.setLine(variableLineLength: 1024)
        let over = Self.setLine(variableLineLength: 1025)
        let base = "Channel: PJSIP/answer\nApplication: Playback\nData: x\nArchive: yes\n"
        try await withAMISpoold(spool: spool, arguments: ["--result-log", resultLog]) { ami, spoold in
            try spool.submit("fits.call", base + fits + "\n")
            let placed = try await spool.waitForArchive("fits.call", by: spoold)
            #expect(placed.status == "Completed")
            let sent = try #require(ami.originates(channel: "PJSIP/answer").first)
            #expect(sent.values("Variable").contains(String(fits.dropFirst("Set: ".count))), "sent whole")

            try spool.submit("over.call", base + over + "\n")
            let refused = try await spool.waitForArchive("over.call", by: spoold)
            #expect(refused.status == "Failed")
            #expect(refused.tags.isEmpty, "not dialled: no StartRetry")
            #expect(ami.originates(channel: "PJSIP/answer").count == 1, "nothing of it reached the PBX")
            try await spoold.waitForLogLine("the refusal naming the limit") {
                $0.contains("over.call") && $0.contains("Variable header for LONG (line 5)")
                    && $0.contains("1025-byte line") && $0.contains("at most 1024 bytes")
            }
            try await spoold.waitUntil("the result-log line") {
                (FileSystem.read(resultLog).map { String(decoding: $0, as: UTF8.self) } ?? "").contains("over.call")
            }
            let lines = String(decoding: FileSystem.read(resultLog) ?? [], as: UTF8.self).split(separator: "\n")
            let line = try JSONDecoder().decode(ResultLine.self, from: Data(try #require(lines.last { $0.contains("over.call") }).utf8))
            #expect(line.status == "Failed")
            #expect(line.summary == "Failed (AMI line limit: the Variable header for LONG (line 5) would be 1025 bytes, over the 1024 bytes Asterisk's manager reads)")
        }
    }

    @Test("spoold check warns about AMI's line limit, naming the line and the limit")
    func checkWarns() async throws {
        let spool = try TemporarySpool()
        let path = spool.root + "/long.call"
        try FileSystem.write(Array(("Channel: PJSIP/answer\nApplication: Playback\n" + Self.setLine(variableLineLength: 1025) + "\n").utf8),
                             to: path, mode: 0o644)
        let run = try await ToolRun.run(BuiltProducts.spoold, ["check", path])
        #expect(run.status != 0, "\(run)")
        #expect(run.stdout.contains("\(path):3: warning: the AMI Variable header for LONG would be 1025 bytes, over AMI's 1024-byte line limit"), "\(run)")
        #expect(run.stdout.contains("refused (AMI line limit"), "\(run)")
    }
}
