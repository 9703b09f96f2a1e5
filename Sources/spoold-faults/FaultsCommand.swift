import ArgumentParser
import Foundation
import TestSupport

/// `spoold-faults`: drives the real `spoold` binary through crashes, AMI restarts, a full disk, hostile
/// input and a large burst, and checks from the spool and the test server's Originate log that nothing was
/// lost or dialled too often. Exit status 1 when any check fails.
@main
struct FaultsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spoold-faults",
        abstract: "Fault-injection suite for spoold: kill -9, AMI restart, disk full, hostile input, burst.",
        subcommands: [AllFaults.self, KillFaults.self, AMIRestartFaults.self, DiskFullFaults.self,
                      HostileFaults.self, BurstFaults.self],
        defaultSubcommand: AllFaults.self
    )
}

/// The two sizes: `full` is the (2,000 files and 20 kills, 100,000-file burst, …), `reduced` is
/// the same checks at a size CI can afford.
enum SuiteSize: String, ExpressibleByArgument, CaseIterable {
    case full, reduced
}

struct RigOptions: ParsableArguments {
    @Option(help: "The spoold executable (default: next to spoold-faults).")
    var spoold: String?

    @Option(help: "Parent directory of the temporary spools.")
    var tmp = FileManager.default.temporaryDirectory.path

    @Option(help: "Seed for every random choice (default: from the clock; always printed).")
    var seed: UInt64?

    @Option(help: "full (the issue's sizes) or reduced (CI).")
    var size: SuiteSize = .full

    @Flag(help: "Keep the spools (logs included) for inspection instead of deleting them.")
    var keep = false


    mutating func validate() throws {
        // Chosen once, so every scenario and the summary use (and print) the same seed.
        if seed == nil { seed = UInt64(Date().timeIntervalSince1970 * 1000) }
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ValidationError("no spoold executable at \(binary); build it first or pass --spoold")
        }
    }

    var binary: String {
        spoold ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("spoold").path
    }

    var effectiveSeed: UInt64 { seed ?? 0 }
}

/// What one scenario found: printable lines and whether its checks held.
struct ScenarioResult {
    let name: String
    var lines: [String] = []
    var passed = true
    var skipped: String?

    mutating func add(_ line: String) {
        lines.append(line)
        say("  \(line)")
    }

    mutating func absorb(_ verdict: FaultVerdict, label: String) {
        for line in verdict.report(label) { add(line) }
        if !verdict.passed { passed = false }
    }

    mutating func check(_ condition: Bool, _ message: String) {
        add((condition ? "ok   " : "FAIL ") + message)
        if !condition { passed = false }
    }
}

/// Runs scenarios one after another and prints a summary; fails if any failed.
func runScenarios(_ scenarios: [(String, (inout ScenarioResult) async throws -> Void)], options: RigOptions) async throws {
    say("spoold-faults: size \(options.size.rawValue), seed \(options.effectiveSeed), spoold \(options.binary)")
    var results: [ScenarioResult] = []
    for (name, body) in scenarios {
        say("== \(name)")
        let started = now()
        var result = ScenarioResult(name: name)
        do {
            try await body(&result)
        } catch {
            result.add("FAIL \(error)")
            result.passed = false
        }
        result.add(String(format: "took %.1f s", now() - started))
        results.append(result)
    }
    say("== summary (seed \(options.effectiveSeed))")
    for result in results {
        let verdict = result.skipped.map { "SKIP (\($0))" } ?? (result.passed ? "PASS" : "FAIL")
        say("\(result.name): \(verdict)")
    }
    if results.contains(where: { !$0.passed }) { throw ExitCode(1) }
}

struct AllFaults: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "all", abstract: "Every scenario in turn.")
    @OptionGroup var options: RigOptions

    func run() async throws {
        try await runScenarios([
            ("kill -9", { try await KillFaults.scenario(options, &$0) }),
            ("AMI server restart", { try await AMIRestartFaults.scenario(options, &$0) }),
            ("disk full", { try await DiskFullFaults.scenario(options, &$0) }),
            ("hostile input", { try await HostileFaults.scenario(options, &$0) }),
            ("burst", { try await BurstFaults.scenario(options, &$0) }),
        ], options: options)
    }
}

extension ScenarioResult {
    /// Waits until `count` files are archived and `outgoing/` is empty. Not getting there is recorded as a
    /// hang (with spoold's last log lines), and the caller still checks what was left behind.
    mutating func awaitDrain(_ spool: TemporarySpool, count: Int, timeout: Double, daemon: Daemon) async throws {
        do {
            try await waitUntil("all \(count) files archived", timeout: .seconds(timeout), every: .milliseconds(250)) {
                spool.doneNames().filter { !$0.hasPrefix(".") }.count >= count && spool.pendingNames().isEmpty
            }
            add("ok   all \(count) files archived, outgoing/ empty")
        } catch let hang as TimedOut {
            add("FAIL HANG: \(hang): \(spool.doneNames().count) in outgoing_done, \(spool.pendingNames().count) in outgoing\n\(daemon.tail())")
            passed = false
        }
    }
}

/// Prints one line straight to the descriptor (print is block-buffered into a file or pipe), so a long
/// run can be followed as it goes.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
