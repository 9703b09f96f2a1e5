import CallFile
import Foundation
import Spooler
import Testing
import TestSupport
@testable import SpoolObservability

@Suite("on_finish hook")
struct OnFinishTests {
    static let t0 = SpoolInstant(seconds: 1_795_364_000)

    static func result(_ file: String, channel: String = "PJSIP/100;x=$(touch /tmp/pwned)") -> FileResult {
        let attempt = AttemptReport(file: file, attempt: 2, channelId: "spoold-\(file)-2", channel: channel,
                                    started: t0, ended: t0.adding(seconds: 3), result: .failed(reason: 5, text: "Remote end is Busy"))
        return FileResult(file: file, status: .expired, summary: "Expired after 2 attempts", disposition: .archived(file),
                          channel: channel, attempts: [attempt], finished: t0.adding(seconds: 3))
    }

    static func runner(_ command: String, in directory: TemporaryDirectory, concurrency: Int = 4,
                       timeout: Duration = .seconds(30), killGrace: Duration = .seconds(5),
                       inheritedEnvironment: [String: String] = OnFinishRunner.currentEnvironment(),
                       metrics: SpoolMetrics? = nil, log: LogCapture = LogCapture()) -> OnFinishRunner {
        OnFinishRunner(configuration: .init(command: command, spoolDirectory: directory.path + "/spool",
                                            concurrency: concurrency, timeout: timeout, killGrace: killGrace,
                                            inheritedEnvironment: inheritedEnvironment),
                       metrics: metrics, logger: log.logger)
    }

    /// `NAME=value` lines of `env` output -> dictionary.
    static func environment(_ text: String) -> [String: String] {
        var environment: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            environment[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return environment
    }

    @Test func theResultArrivesInEnvironmentVariablesOnly() async throws {
        let directory = try TemporaryDirectory()
        let metrics = SpoolMetrics(started: Self.t0)
        // A channel with shell syntax in it stays a value: nothing runs it.
        let runner = Self.runner("env | grep '^SPOOLD_' > \"\(directory.path)/env.tmp\" && mv \"\(directory.path)/env.tmp\" \"\(directory.path)/env\"",
                                 in: directory, metrics: metrics)
        let running = Task { try await runner.run() }
        let result = Self.result("a.call")
        runner.submit(result, json: result.jsonLine)
        runner.finish()
        try await running.value
        let environment = Self.environment(try #require(directory.read("env")))
        #expect(environment["SPOOLD_FILE"] == "a.call")
        #expect(environment["SPOOLD_STATUS"] == "Expired")
        #expect(environment["SPOOLD_CHANNEL"] == "PJSIP/100;x=$(touch /tmp/pwned)")
        #expect(environment["SPOOLD_ATTEMPTS"] == "2")
        #expect(environment["SPOOLD_UNIQUEID"] == "spoold-a.call-2")
        #expect(environment["SPOOLD_REASON"] == "5")
        #expect(environment["SPOOLD_REASON_TEXT"] == "Remote end is Busy")
        #expect(environment["SPOOLD_DISPOSITION"] == "archived")
        #expect(environment["SPOOLD_ARCHIVE"] == directory.path + "/spool/outgoing_done/a.call")
        #expect(environment["SPOOLD_SUMMARY"] == "Expired after 2 attempts")
        let json = try #require(environment["SPOOLD_RESULT_JSON"])
        let line = try JSONDecoder().decode(ResultLine.self, from: Data(json.utf8))
        #expect(line.file == "a.call" && line.attempts.count == 1)
        #expect(PrometheusText(metrics.render())[#"spoold_on_finish_runs_total{outcome="ok"}"#] == 1)
    }

    @Test func theHookDoesNotInheritSpooldsEnvironment() async throws {
        let directory = try TemporaryDirectory()
        // spoold's environment as the runner sees it, injected (a setenv here would leak into the tests
        // running in parallel): a secret and an unrelated variable must stay behind, PATH and HOME pass.
        let spooldEnvironment = ["PATH": "/usr/bin:/bin", "HOME": "/var/lib/spoold",
                                 "SPOOLD_TEST_AMI_SECRET": "hunter2", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/x"]
        let runner = Self.runner("env > \"\(directory.path)/env.tmp\"; mv \"\(directory.path)/env.tmp\" \"\(directory.path)/env\"",
                                 in: directory, inheritedEnvironment: spooldEnvironment)
        let running = Task { try await runner.run() }
        runner.submit(Self.result("a.call"), json: Self.result("a.call").jsonLine)
        runner.finish()
        try await running.value
        let text = try #require(directory.read("env"))
        #expect(!text.contains("hunter2"))
        let environment = Self.environment(text)
        #expect(environment["PATH"] == "/usr/bin:/bin")
        #expect(environment["HOME"] == "/var/lib/spoold")
        // Nothing of the test process's own environment either: only the passed-through names, the
        // result's SPOOLD_* and what the shell sets itself.
        let strangers = environment.keys.filter {
            !$0.hasPrefix("SPOOLD_") && !OnFinishRunner.passedThrough.contains($0) && !["PWD", "SHLVL", "_", "OLDPWD"].contains($0)
        }
        #expect(strangers.isEmpty, "\(strangers.sorted())")
    }

    @Test func withoutPATHTheHookGetsASafeDefault() async throws {
        let directory = try TemporaryDirectory()
        let runner = Self.runner("env > \"\(directory.path)/env.tmp\"; mv \"\(directory.path)/env.tmp\" \"\(directory.path)/env\"",
                                 in: directory, inheritedEnvironment: [:])
        let running = Task { try await runner.run() }
        runner.submit(Self.result("a.call"), json: [])
        runner.finish()
        try await running.value
        #expect(Self.environment(try #require(directory.read("env")))["PATH"] == "/usr/local/bin:/usr/bin:/bin")
    }

    @Test func aFailingHookIsLoggedAndCounted() async throws {
        let directory = try TemporaryDirectory()
        let log = LogCapture()
        let metrics = SpoolMetrics(started: Self.t0)
        let runner = Self.runner("exit 3", in: directory, metrics: metrics, log: log)
        let running = Task { try await runner.run() }
        runner.submit(Self.result("a.call"), json: [])
        runner.finish()
        try await running.value
        #expect(log.messages.contains { $0.contains("[a.call] on_finish failed: exit status 3") }, "\(log.messages)")
        #expect(PrometheusText(metrics.render())[#"spoold_on_finish_runs_total{outcome="failed"}"#] == 1)
    }

    @Test func aHookPastItsTimeoutIsTerminatedWithItsChildren() async throws {
        let directory = try TemporaryDirectory()
        let log = LogCapture()
        let metrics = SpoolMetrics(started: Self.t0)
        // The shell starts a child and waits: SIGTERM must reach the whole process group.
        let runner = Self.runner("sleep 120 & echo $! > \"\(directory.path)/child\"; wait", in: directory,
                                 timeout: .milliseconds(500), metrics: metrics, log: log)
        let started = ContinuousClock.now
        let running = Task { try await runner.run() }
        runner.submit(Self.result("slow.call"), json: [])
        runner.finish()
        try await running.value
        // Ended at its timeout, not when its child would have ended by itself.
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(log.messages.contains { $0.contains("[slow.call] on_finish timed out") }, "\(log.messages)")
        #expect(PrometheusText(metrics.render())[#"spoold_on_finish_runs_total{outcome="timeout"}"#] == 1)
        let child = try #require(directory.read("child").flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        try await waitUntil("the hook's child to be gone") { kill(child, 0) != 0 }
    }

    @Test func aHookIgnoringSIGTERMIsKilledWithItsChildrenAfterTheGrace() async throws {
        let directory = try TemporaryDirectory()
        let log = LogCapture()
        let metrics = SpoolMetrics(started: Self.t0)
        // The shell and its child (ignored signals are inherited) both ignore SIGTERM: only the SIGKILL
        // that follows after the grace, sent to the whole group, ends them.
        let runner = Self.runner("trap '' TERM; sleep 120 & echo $! > \"\(directory.path)/child\"; wait; wait", in: directory,
                                 timeout: .milliseconds(300), killGrace: .milliseconds(300), metrics: metrics, log: log)
        let started = ContinuousClock.now
        let running = Task { try await runner.run() }
        runner.submit(Self.result("stubborn.call"), json: [])
        runner.finish()
        try await running.value
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(log.messages.contains { $0.contains("[stubborn.call] on_finish timed out") && $0.contains("killed by signal \(SIGKILL)") },
                "\(log.messages)")
        #expect(PrometheusText(metrics.render())[#"spoold_on_finish_runs_total{outcome="timeout"}"#] == 1)
        let child = try #require(directory.read("child").flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        try await waitUntil("the stubborn hook's child to be gone") { kill(child, 0) != 0 }
    }

    @Test func atMostConcurrencyHooksRunAtOnce() async throws {
        let directory = try TemporaryDirectory()
        let events = directory.path + "/events"
        let release = directory.path + "/release"
        // Each hook notes its start, waits for the test's release file (at most 60 s), notes its end.
        let command = """
            echo "start $SPOOLD_FILE" >> "\(events)"
            i=0; while [ ! -e "\(release)" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
            echo "end $SPOOLD_FILE" >> "\(events)"
            """
        let runner = Self.runner(command, in: directory, concurrency: 2)
        let running = Task { try await runner.run() }
        for index in 0..<5 {
            runner.submit(Self.result("\(index).call"), json: [])
        }
        runner.finish()
        func lines() -> [Substring] { (directory.read("events") ?? "").split(separator: "\n") }
        try await waitUntil("two hooks to start") { lines().count >= 2 }
        #expect(lines().count == 2, "only two may run while both wait: \(lines())")
        _ = FileManager.default.createFile(atPath: release, contents: nil)
        try await running.value
        let sequence = lines()
        #expect(sequence.filter { $0.hasPrefix("end") }.count == 5)
        var runningNow = 0
        var most = 0
        for line in sequence {
            runningNow += line.hasPrefix("start") ? 1 : -1
            most = max(most, runningNow)
        }
        #expect(most == 2, "\(sequence)")
    }

    @Test func aFullQueueSkipsTheHookAndNamesTheFile() async throws {
        let directory = try TemporaryDirectory()
        let log = LogCapture()
        let metrics = SpoolMetrics(started: Self.t0)
        let runner = OnFinishRunner(configuration: .init(command: "true", spoolDirectory: directory.path,
                                                         concurrency: 1, queueCapacity: 2),
                                    metrics: metrics, logger: log.logger)
        // Not running: nothing takes jobs off the queue.
        for index in 0..<3 { runner.submit(Self.result("\(index).call"), json: []) }
        #expect(log.messages.contains { $0.contains("[2.call] on_finish not run") }, "\(log.messages)")
        #expect(PrometheusText(metrics.render())[#"spoold_on_finish_runs_total{outcome="dropped"}"#] == 1)
        let running = Task { try await runner.run() }
        runner.finish()
        try await running.value
        #expect(PrometheusText(metrics.render())[#"spoold_on_finish_runs_total{outcome="ok"}"#] == 2)
    }
}
