import ArgumentParser
import Foundation
import TestSupport

/// A large burst renamed into `outgoing/` at once with `--max-concurrent`: the test server's count of
/// channels up at once must never pass the limit, and spoold's peak RSS (VmHWM) must stay bounded.
struct BurstFaults: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "burst", abstract: "100,000 files at once under --max-concurrent 100.")
    @OptionGroup var options: RigOptions
    @Option(help: "Files in the burst (default: 100000 full, 2000 reduced).") var files: Int?
    @Option(help: "The --max-concurrent limit.") var maxConcurrent = 100
    @Option(help: "The RSS bound in MiB that counts as bounded.") var rssBound = 256

    func run() async throws {
        try await runScenarios([("burst", {
            try await Self.scenario(options, &$0, files: files, maxConcurrent: maxConcurrent, rssBound: rssBound)
        })], options: options)
    }

    static func scenario(_ options: RigOptions, _ result: inout ScenarioResult, files: Int? = nil,
                         maxConcurrent: Int = 100, rssBound: Int = 256) async throws {
        let fileCount = files ?? (options.size == .full ? 100_000 : 2_000)
        let log = DialLog()
        let server = try await startServer(log: log)
        let spool = try TemporarySpool.forFaults(in: options.tmp, label: "burst", keep: options.keep)
        let daemon = Daemon(binary: options.binary, spool: spool,
                            extra: ["--max-concurrent", String(maxConcurrent), "--max-cps", "0"])
        // 100 ms calls: long enough that the limit, not the dialler's speed, decides how many are up.
        let calls = (0..<fileCount).map { index in
            FaultCall(name: "b-\(String(index + 1_000_000).dropFirst()).call", channel: "Local/answer/0/100", maxRetries: 0)
        }
        try await daemon.launch(amiPort: server.port)
        let rssAtReady = daemon.peakRSSKiB() ?? 0
        // Stage everything first, then rename all of them in as fast as possible: the burst.
        for call in calls { try FileSystem.write(call.bytes, to: spool.staging + "/" + call.name, mode: 0o644) }
        let burstStart = now()
        for call in calls {
            guard rename(spool.staging + "/" + call.name, spool.outgoing + "/" + call.name) == 0 else {
                throw SystemError("rename \(call.name)", errno)
            }
        }
        result.add(String(format: "%d files renamed into outgoing/ in %.2f s, --max-concurrent %d", fileCount,
                          now() - burstStart, maxConcurrent))
        try await result.awaitDrain(spool, count: fileCount, timeout: options.size == .full ? 1800 : 300, daemon: daemon)
        let elapsed = now() - burstStart
        let peakKiB = daemon.peakRSSKiB() ?? 0
        result.add(String(format: "drained in %.1f s (%.0f calls/s)", elapsed, Double(fileCount) / elapsed))
        result.check(server.peakLiveChannels <= maxConcurrent && server.peakLiveChannels > 0,
                     "at most \(maxConcurrent) calls up at the server at once (peak \(server.peakLiveChannels))")
        result.check(peakKiB / 1024 <= rssBound,
                     "spoold peak RSS (VmHWM) \(peakKiB / 1024) MiB ≤ \(rssBound) MiB (\(rssAtReady / 1024) MiB at ready)")
        try await daemon.terminate()
        try await server.stop()
        result.absorb(FaultVerdict.check(calls, spool: spool, log: log), label: "burst of \(fileCount)")
    }
}
