import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `spoold-bench queue`: how long `spoold queue` takes to answer with many files queued (issue 15: within a
/// second with 100,000), timed from the command's start to its exit, the listing's output included.
struct QueueBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Time of spoold queue (text and --json) against a real spoold with many files queued."
    )

    @Option(help: "Future-dated files queued.")
    var files = 100_000

    @Option(help: "Runs of each form; the median and the slowest are printed.")
    var runs = 5

    @Option(help: "The spoold executable (default: next to this benchmark).")
    var spoold: String?

    @Option(help: "Where the temporary spool goes.")
    var tmp = FileManager.default.temporaryDirectory.path

    func validate() throws {
        guard files > 0, runs > 0 else { throw ValidationError("--files and --runs must be positive") }
    }

    func run() async throws {
        let binary = spoold ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("spoold").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ValidationError("no spoold executable at \(binary); build it first (swift build -c release)")
        }
        print("spoold queue benchmark: \(binary), \(files) files queued")
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, load average \(loadAverage())")
        let spool = try BenchSpool(under: tmp)
        defer { spool.remove() }
        let text = "Channel: Sim/answer\nApplication: Playback\nData: later\nMaxRetries: 2\n"
        let names = try spool.stage(count: files, prefix: "later", text: text, mtime: Date().timeIntervalSince1970 + 7200)
        try spool.renameIn(names)
        let child = try SpooldChild.start(binary: binary, spool: spool, extra: ["--backend", "simulate"])
        defer { child.stop() }
        try await child.waitReady(timeout: 300)
        let output = spool.root + "/queue.out"
        // The start-up sweep reads every future-dated file in the background; the figure is taken once
        // the listing shows each one's channel (a listing during the sweep costs the same).
        let deadline = Date().addingTimeInterval(300)
        while true {
            _ = try runQueue(binary, spool: spool, json: false, output: output)
            let listing = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            if !listing.contains("  ?  ") || Date() > deadline { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let lines = ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").split(separator: "\n").count
        print("listing: \(lines - 1) files")
        for json in [false, true] {
            var seconds: [Double] = []
            for _ in 0..<runs { seconds.append(try runQueue(binary, spool: spool, json: json, output: output)) }
            seconds.sort()
            let median = seconds[seconds.count / 2], worst = seconds.last!
            let form = json ? "spoold queue --json" : "spoold queue"
            print("\(form): median \(String(format: "%.3f", median)) s, slowest \(String(format: "%.3f", worst)) s over \(runs) runs")
            printFigure("\(form) with \(files) files", target: "< 1 s", result: String(format: "%.3f s (median)", median), pass: median < 1)
        }
    }

    /// One `spoold queue` run, its output to a file; the seconds from launch to exit.
    func runQueue(_ binary: String, spool: BenchSpool, json: Bool, output: String) throws -> Double {
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["queue", "--spool-dir", spool.root] + (json ? ["--json"] : [])
        process.standardOutput = handle
        process.standardError = FileHandle.standardError
        let start = Date()
        try process.run()
        process.waitUntilExit()
        let seconds = Date().timeIntervalSince(start)
        guard process.terminationStatus == 0 else { throw BenchError.exited("spoold queue exited \(process.terminationStatus)") }
        return seconds
    }
}
