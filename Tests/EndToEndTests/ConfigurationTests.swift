#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TestSupport
import Testing

/// `spoold run --config`: `--check-config` exit codes and messages, and SIGHUP reloads on a running spoold.
@Suite("spoold configuration file and reload")
struct ConfigurationTests {
    func writeConfig(_ spool: TemporarySpool, _ text: String, name: String = "spoold.conf", mode: mode_t = 0o644) throws -> String {
        let path = spool.root + "/" + name
        // Written beside and renamed in, so a reload never reads half a file.
        try FileSystem.write(Array(text.utf8), to: path + ".new", mode: mode)
        try FileSystem.chmod(path + ".new", mode)
        try FileSystem.rename(path + ".new", path)
        return path
    }

    @Test("--check-config on a valid file exits 0 with a summary that never shows the secret")
    func checkValid() async throws {
        let spool = try TemporarySpool()
        let secret = spool.root + "/pbx1.secret"
        try FileSystem.write(Array("hunter2\n".utf8), to: secret, mode: 0o600)
        try FileSystem.chmod(secret, 0o600)
        let config = try writeConfig(spool, """
            [general]
            spool_dir = \(spool.root)
            max_cps = 2.5
            [ami:pbx1]
            host = 127.0.0.1
            user = spoold
            secret_file = \(secret)
            md5 = yes
            [limit:PJSIP/*@trunk-a]
            max_concurrent = 3
            """)
        let run = try await ToolRun.run(BuiltProducts.spoold, ["run", "--config", config, "--check-config"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("\(config): valid"), "\(run)")
        #expect(run.stdout.contains("spool_dir \(spool.root), backend ami, max_concurrent 100, max_cps 2.5"), "\(run)")
        #expect(run.stdout.contains("pbx1: spoold@127.0.0.1:5038, tls no, md5 yes, weight 1, max_concurrent 0, max_cps 0, secret file \(secret)"), "\(run)")
        #expect(run.stdout.contains("limit PJSIP/*@trunk-a: max_concurrent 3, max_cps 0"), "\(run)")
        #expect(!run.stdout.contains("hunter2") && !run.stderr.contains("hunter2"))
        #expect(run.stderr.isEmpty, "\(run)")
    }

    @Test("--check-config on an invalid file exits 1 with every error as file:line: key: message")
    func checkInvalid() async throws {
        let spool = try TemporarySpool()
        let config = try writeConfig(spool, """
            [general]
            backend = simulate
            max_cps = fast
            max-concurrent = 4
            [limit:Sim/*]
            """)
        let run = try await ToolRun.run(BuiltProducts.spoold, ["run", "--config", config, "--check-config"])
        #expect(run.status == 1, "\(run)")
        #expect(run.stderr.split(separator: "\n").map(String.init) == [
            "\(config):3: max_cps: \"fast\" is not valid; expected new calls per second, 0 (no limit) or more, e.g. 50 or 2.5",
            "\(config):4: max-concurrent: unknown key in [general]; did you mean max_concurrent?",
            "\(config):5: [limit:Sim/*]: sets no limit; add max_concurrent and/or max_cps",
        ], "\(run)")
        #expect(run.stdout.isEmpty)
    }

    @Test("A secret in a file others can read: a warning, and still valid")
    func checkSecretWarning() async throws {
        let spool = try TemporarySpool()
        let config = try writeConfig(spool, "[general]\nami_user = spoold\nami_secret = hunter2\n", mode: 0o644)
        let run = try await ToolRun.run(BuiltProducts.spoold, ["run", "--config", config, "--check-config"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stderr.contains("\(config): warning: holds an AMI secret (line 3) and is readable by group and others (mode 0644); run chmod 600 \(config)"), "\(run)")
        #expect(!run.stderr.contains("hunter2") && !run.stdout.contains("hunter2"))
    }

    @Test("A flag wins over the file: --check-config reports the flag's value")
    func flagWins() async throws {
        let spool = try TemporarySpool()
        let config = try writeConfig(spool, "[general]\nbackend = simulate\nmax_concurrent = 5\nmax_cps = 7\n")
        let run = try await ToolRun.run(BuiltProducts.spoold, ["run", "--config", config, "--max-cps", "3", "--check-config"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("backend simulate, max_concurrent 5, max_cps 3,"), "\(run)")
    }

    @Test("A missing --config file exits 1 naming it")
    func missingFile() async throws {
        let spool = try TemporarySpool()
        let run = try await ToolRun.run(BuiltProducts.spoold, ["run", "--config", spool.root + "/none.conf", "--check-config"])
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("\(spool.root)/none.conf: config: cannot open (No such file or directory)"), "\(run)")
    }

    @Test("SIGHUP raises max_concurrent on a running spoold: the waiting call goes while the first is still up, and both complete")
    func reloadRaisesLimit() async throws {
        let spool = try TemporarySpool()
        let config = try writeConfig(spool, "[general]\nmax_concurrent = 1\n")
        try await withSpoold(spool: spool, arguments: ["--config", config]) { spoold in
            let longChannel = "Sim/answer/0/\(callLengthForTheTestToAct(milliseconds: 12000))"
            try spool.submit("long.call", callFile(["Channel": longChannel, "Application": "Wait", "Archive": "yes"]))
            try await spoold.waitForLog("[long.call] attempt 1 of 1 on \(longChannel): dialling")
            try spool.submit("short.call", callFile(["Channel": "Sim/answer", "Application": "Wait", "Archive": "yes"]))

            // A broken file first: refused, the running settings stay, spoold keeps running.
            _ = try writeConfig(spool, "[general]\nmax_concurrent = lots\n")
            spoold.signal(SIGHUP)
            try await spoold.waitForLog("reload refused, the running settings stay: \(config):2: max_concurrent: \"lots\" is not valid")
            #expect(spool.archived("short.call") == nil, "max_concurrent 1 still holds")

            _ = try writeConfig(spool, "[general]\nmax_concurrent = 2\npoll = yes\n")
            spoold.signal(SIGHUP)
            try await spoold.waitForLog("configuration reloaded: applied max_concurrent; changed but needing a restart to take effect: poll")
            let short = try await spool.waitForArchive("short.call", by: spoold)
            #expect(short.status == "Completed")
            let long = try await spool.waitForArchive("long.call", by: spoold, timeout: .seconds(60))
            #expect(long.status == "Completed")
            try await spoold.waitForLog("[long.call] finished")
            let lines = spoold.logLines
            let shortDone = try #require(lines.firstIndex { $0.contains("[short.call] finished") })
            let longDone = try #require(lines.firstIndex { $0.contains("[long.call] finished") })
            #expect(shortDone < longDone, "the raised limit applied while the first call was up")
        }
    }

    @Test("Observability, log format and shutdown settings come from the file too: result_log and on_finish work without their flags")
    func observabilityKeys() async throws {
        let spool = try TemporarySpool()
        let results = spool.root + "/results.jsonl", marker = spool.root + "/hook-ran"
        let config = try writeConfig(spool, """
            [general]
            log_format = json
            shutdown_grace = 2
            result_log = \(results)
            on_finish = echo "$SPOOLD_FILE $SPOOLD_STATUS" > \(marker)
            on_finish_timeout = 5
            """)
        try await withSpoold(spool: spool, arguments: ["--config", config]) { spoold in
            try spool.submit("keys.call", callFile(["Channel": "Sim/answer", "Application": "Wait", "Archive": "yes"]))
            #expect(try await spool.waitForArchive("keys.call", by: spoold).status == "Completed")
            try await spoold.waitUntil("the result-log line and the hook's file") {
                (FileSystem.read(results).map { String(decoding: $0, as: UTF8.self) } ?? "").contains("keys.call")
                    && FileSystem.read(marker).map { String(decoding: $0, as: UTF8.self) } == "keys.call Completed\n"
            }
            // log_format = json: every line of the log is one JSON object.
            let lines = spoold.logLines.filter { $0.hasPrefix("{") }
            #expect(!lines.isEmpty && lines.count == spoold.logLines.count, "\(spoold.tail)")
        }
        let bad = try writeConfig(spool, "[general]\nshutdown_grace = forever\non_finish_concurrency = 0\n", name: "bad.conf")
        let run = try await ToolRun.run(BuiltProducts.spoold, ["run", "--config", bad, "--check-config"])
        #expect(run.status == 1, "\(run)")
        #expect(run.stderr.split(separator: "\n").map(String.init) == [
            "\(bad):2: shutdown_grace: \"forever\" is not valid; expected seconds from 0 to 86400, e.g. 10 or 2.5",
            "\(bad):3: on_finish_concurrency: \"0\" is not valid; expected a whole number from 1 to 1000",
        ], "\(run)")
    }

    @Test("SIGHUP changes the log level live")
    func reloadLogLevel() async throws {
        let spool = try TemporarySpool()
        let config = try writeConfig(spool, "[general]\nlog_level = notice\n")
        // No --log-level flag, so the file's level applies (a flag would win over every reload).
        let spoold = try SpooldProcess(spool: spool, arguments: ["--config", config], logLevel: nil)
        defer { spoold.kill() }
        try await spoold.waitForLog("spoold ready")
        try spool.submit("quiet.call", callFile(["Channel": "Sim/answer", "Application": "Wait", "Archive": "yes"]))
        _ = try await spool.waitForArchive("quiet.call", by: spoold)
        #expect(!spoold.log.contains("[quiet.call] attempt 1 of 1 on Sim/answer: dialling"), "debug lines are off at notice")

        _ = try writeConfig(spool, "[general]\nlog_level = debug\n")
        spoold.signal(SIGHUP)
        try await spoold.waitForLog("configuration reloaded: applied log_level")
        try spool.submit("loud.call", callFile(["Channel": "Sim/answer", "Application": "Wait", "Archive": "yes"]))
        try await spoold.waitForLog("[loud.call] attempt 1 of 1 on Sim/answer: dialling")
        #expect(try await spoold.terminate() == 0)
    }
}
