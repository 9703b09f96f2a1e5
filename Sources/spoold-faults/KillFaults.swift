import ArgumentParser
import Foundation
import TestSupport

/// kill -9 at random moments during a run of mixed calls, then a final spoold lets it finish.
struct KillFaults: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kill", abstract: "SIGKILL spoold at seeded random moments during a mixed run.")
    @OptionGroup var options: RigOptions
    @Option(help: "Call files (default: 2000 full, 200 reduced).") var files: Int?
    @Option(help: "Kills (default: 20 full, 4 reduced).") var kills: Int?

    func run() async throws {
        try await runScenarios([("kill -9", { try await Self.scenario(options, &$0, files: files, kills: kills) })], options: options)
    }

    static func scenario(_ options: RigOptions, _ result: inout ScenarioResult, files: Int? = nil, kills: Int? = nil) async throws {
        let fileCount = files ?? (options.size == .full ? 2000 : 200)
        let killCount = kills ?? (options.size == .full ? 20 : 4)
        var random = SplitMix64(seed: options.effectiveSeed)
        let log = DialLog()
        let server = try await startServer(log: log)
        let spool = try TemporarySpool.forFaults(in: options.tmp, label: "kill", keep: options.keep)
        // 100 new calls per second keeps the run long enough for every kill to land mid-run.
        let daemon = Daemon(binary: options.binary, spool: spool, extra: ["--max-concurrent", "100", "--max-cps", "100"])
        let calls = (0..<fileCount).map { FaultCall.mixed(index: $0, prefix: "k") }
        result.add("\(fileCount) files (answer with talk time, answer after ringing, busy ×3, congestion ×1, no answer ×2), \(killCount) kills, server port \(server.port)")
        try await daemon.launch(amiPort: server.port)
        for call in calls { try spool.submit(call.name, bytes: call.bytes) }

        var downtimes: [Downtime] = []
        var landed = 0
        for number in 1...killCount {
            let up = Double.random(in: 0.2...1.5, using: &random)
            let down = Double.random(in: 0.0...1.5, using: &random)
            try await pause(up)
            let archived = spool.doneNames().count
            let killedAt = now()
            daemon.kill9()
            if archived < fileCount { landed += 1 }
            try await pause(down)
            let relaunched = now()
            downtimes.append(Downtime(from: killedAt, until: relaunched))
            result.add(String(format: "kill %2d: %.2f s after ready, down %.2f s, %d/%d archived, %d dials so far",
                              number, up, down, archived, fileCount, log.count))
            try await daemon.launch(amiPort: server.port)
        }
        result.check(landed == killCount, "\(landed) of \(killCount) kills landed while files remained")
        try await result.awaitDrain(spool, count: fileCount, timeout: options.size == .full ? 600 : 240, daemon: daemon)
        try await daemon.terminate()
        try await server.stop()
        let verdict = FaultVerdict.check(calls, spool: spool, log: log, downtimes: downtimes)
        result.absorb(verdict, label: "after \(killCount) kills")
    }
}
