import ArgumentParser
import Foundation
import TestSupport

/// The AMI server dies mid-run (its calls die with it, as with an Asterisk restart) and comes back on the
/// same port: spoold must reconnect, count each interrupted attempt once, and lose or double nothing.
struct AMIRestartFaults: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ami-restart", abstract: "Stop and restart the AMI server mid-run.")
    @OptionGroup var options: RigOptions
    @Option(help: "Call files (default: 2000 full, 200 reduced).") var files: Int?
    @Option(help: "Server restarts (default: 3 full, 1 reduced).") var restarts: Int?

    func run() async throws {
        try await runScenarios([("AMI server restart", { try await Self.scenario(options, &$0, files: files, restarts: restarts) })], options: options)
    }

    static func scenario(_ options: RigOptions, _ result: inout ScenarioResult, files: Int? = nil, restarts: Int? = nil) async throws {
        let fileCount = files ?? (options.size == .full ? 2000 : 200)
        let restartCount = restarts ?? (options.size == .full ? 3 : 1)
        var random = SplitMix64(seed: options.effectiveSeed &+ 1)
        let log = DialLog()
        var server = try await startServer(log: log)
        let port = server.port
        let spool = try TemporarySpool.forFaults(in: options.tmp, label: "ami", keep: options.keep)
        let daemon = Daemon(binary: options.binary, spool: spool, extra: ["--max-concurrent", "100", "--max-cps", "100"])
        let calls = (0..<fileCount).map { FaultCall.mixed(index: $0, prefix: "a") }
        result.add("\(fileCount) mixed files, \(restartCount) server restarts on port \(port)")
        try await daemon.launch(amiPort: port)
        for call in calls { try spool.submit(call.name, bytes: call.bytes) }

        for number in 1...restartCount {
            // Spread the restarts over the run: each waits for its share of the files to be archived.
            let share = fileCount * number / (restartCount + 1)
            try await waitUntil("\(share) files archived before restart \(number)", timeout: .seconds(300), every: .milliseconds(100)) {
                spool.doneNames().count >= share
            }
            try await server.stop()
            let down = Double.random(in: 0.5...2.5, using: &random)
            let dialsBefore = log.count
            try await pause(down)
            server = try await startServer(port: port, log: log)
            result.add(String(format: "restart %d: server down %.2f s at %d/%d archived, %d dials before", number, down,
                              spool.doneNames().count, fileCount, dialsBefore))
            let restartedServer = server
            do {
                try await waitUntil("spoold to reconnect after restart \(number)", timeout: .seconds(60), every: .milliseconds(100)) {
                    restartedServer.connectionsAccepted > 0
                }
                result.add("ok   spoold reconnected after restart \(number)")
            } catch {
                result.check(false, "spoold reconnected after restart \(number)")
            }
        }
        try await result.awaitDrain(spool, count: fileCount, timeout: options.size == .full ? 600 : 240, daemon: daemon)
        result.check(daemon.isRunning, "spoold still running (never exited on a lost connection)")
        try await daemon.terminate()
        try await server.stop()
        result.absorb(FaultVerdict.check(calls, spool: spool, log: log), label: "after \(restartCount) AMI restarts")
    }
}
