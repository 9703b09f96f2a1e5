import AMITestServer
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `spoold-bench engine`: runs the built `spoold` binary on temporary spools and prints the engine's figures
/// beside their targets. Figures, never assertions: the table says pass or fail, the exit status is 0.
struct EngineBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Throughput, start-up, limits and latency of a real spoold process."
    )

    @Option(help: "Files renamed into outgoing at once for the throughput figures.")
    var files = 20_000

    @Option(help: "Future-dated files present at start-up.")
    var scheduled = 100_000

    @Option(help: "The --max-cps limit to measure.")
    var cps = 50

    @Option(help: "Seconds over which the achieved rate is measured.")
    var cpsSeconds = 10

    @Option(help: "Files in the --max-concurrent burst.")
    var burst = 10_000

    @Option(help: "The --max-concurrent limit to measure.")
    var concurrent = 100

    @Option(help: "Files spread over a few seconds for the due-to-dial latency.")
    var latencyFiles = 2_000

    @Option(help: "The spoold executable (default: next to this benchmark).")
    var spoold: String?

    @Option(help: "A previous spoold executable measured in the same run, each figure's runs interleaved with the current one's (the 'before' table).")
    var baseline: String?

    @Option(help: "Where temporary spools go (the same file system as outgoing).")
    var tmp = FileManager.default.temporaryDirectory.path

    @Flag(help: "Skip the figures that need spoold's AMI backend.")
    var skipAMI = false

    @Flag(help: "Run the simulate throughput figure's spoold with --fsync (every record and rename synced to disk), to measure what the setting costs; compare with a run without it.")
    var fsync = false

    /// The figures, in the order they run.
    enum Figure: String, CaseIterable, ExpressibleByArgument {
        case throughput, startup, cps, amiThroughput = "ami-throughput", amiCps = "ami-cps", concurrent, latency

        var needsAMI: Bool { ![.throughput, .startup, .cps].contains(self) }
    }

    @Option(name: .customLong("only"), parsing: .upToNextOption,
            help: "Measure only these figures (\(Figure.allCases.map(\.rawValue).joined(separator: ", "))); default: all.")
    var only: [Figure] = []

    @Option(help: "Run each chosen figure this many times (figures vary with the machine's load; repeat and compare).")
    var repeats = 1

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard files > 0, scheduled > 0, cps > 0, cpsSeconds > 0, burst > 0, concurrent > 0, latencyFiles > 0 else {
            throw ValidationError("file counts, --cps, --cps-seconds and --concurrent must be positive")
        }
    }

    func run() async throws {
        let binary = spoold ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("spoold").path
        for path in [binary] + (baseline.map { [$0] } ?? []) where !FileManager.default.isExecutableFile(atPath: path) {
            throw ValidationError("no spoold executable at \(path); build it first (swift build -c release)")
        }
        // With a baseline, both binaries run each figure one after the other, so a change of the machine's
        // load during the run falls on both columns alike.
        let binaries = (baseline.map { [("before", $0)] } ?? []) + [("now", binary)]
        var tables = binaries.map { FigureTable(label: baseline == nil ? nil : $0.0) }
        var simulatedRates = [Double?](repeating: nil, count: binaries.count)

        print("spoold engine benchmark: \(binary)\(baseline.map { ", baseline \($0)" } ?? "")")
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, load average \(loadAverage())")

        let chosen = (only.isEmpty ? Figure.allCases : only).filter { !(skipAMI && $0.needsAMI) }
        for figure in Figure.allCases where chosen.contains(figure) {
            for _ in 0..<repeats {
                for (index, (_, path)) in binaries.enumerated() {
                    let context = BenchContext(binary: path, tmp: tmp, fsync: fsync)
                    try await measure(figure, context: context, table: &tables[index], simulatedRate: &simulatedRates[index])
                }
            }
        }
        for (index, (label, path)) in binaries.enumerated() {
            if baseline != nil { print("\n\(label): \(path)") }
            tables[index].print()
        }
        print("load average at the end: \(loadAverage())")
    }

    private func measure(_ figure: Figure, context: BenchContext, table: inout FigureTable, simulatedRate: inout Double?) async throws {
        switch figure {
        case .throughput:
            let simulated = try await context.throughputSimulate(files: files)
            simulatedRate = simulated.rate
            table.add("throughput, simulate, \(files) files\(fsync ? ", --fsync" : "")", target: fsync ? "— (cost of fsync)" : "≥ 10000 files/s",
                      result: String(format: "%.0f files/s (%.2f s)", simulated.rate, simulated.seconds),
                      pass: fsync ? nil : simulated.rate >= 10_000)
            table.add("  spoold peak threads / RSS / CPU (simulate)", target: "—",
                      result: "\(simulated.peak.threads) threads, \(simulated.peak.rssMiB) MiB, \(simulated.cpu)", pass: nil)

        case .startup:
            let startup = try await context.startupScheduled(files: scheduled)
            table.add("start-up with \(scheduled) future files", target: "≤ 2 s to ready",
                      result: String(format: "%.2f s", startup.seconds), pass: startup.seconds <= 2)
            table.add("  RSS after scheduling \(scheduled) files", target: "≤ 64 MiB",
                      result: "\(startup.peak.rssMiB) MiB (peak), \(startup.peak.threads) threads",
                      pass: startup.peak.rssMiB <= 64)

        case .cps:
            let rate = try await context.rateLimit(cps: cps, seconds: cpsSeconds)
            let deviation = (rate.achieved - Double(cps)) / Double(cps) * 100
            table.add("--max-cps \(cps) over \(cpsSeconds) s (simulate, archive count)", target: "within ±2 %",
                      result: String(format: "%.2f calls/s (%+.1f %%)", rate.achieved, deviation),
                      pass: abs(deviation) <= 2)

        case .amiThroughput:
            let ami = try await context.throughputAMI(files: files)
            table.add("throughput, AMI test server, \(files) files", target: "≥ 5000 files/s",
                      result: String(format: "%.0f files/s (%.2f s)", ami.rate, ami.seconds), pass: ami.rate >= 5_000)
            table.add("  spoold peak threads / RSS / CPU (AMI)", target: "—",
                      result: "\(ami.peak.threads) threads, \(ami.peak.rssMiB) MiB, \(ami.cpu)", pass: nil)
            if let simulatedRate {
                table.add("  AMI / simulate throughput ratio", target: "—",
                          result: String(format: "%.2f", ami.rate / simulatedRate), pass: nil)
            }

        case .amiCps:
            let amiRate = try await context.rateLimitAMI(cps: cps, seconds: cpsSeconds)
            let amiDeviation = (amiRate.achieved - Double(cps)) / Double(cps) * 100
            table.add("--max-cps \(cps) over \(cpsSeconds) s (AMI, Originate arrivals)", target: "within ±2 %",
                      result: String(format: "%.2f calls/s (%+.1f %%)", amiRate.achieved, amiDeviation),
                      pass: abs(amiDeviation) <= 2)

        case .concurrent:
            let result = try await context.concurrencyAMI(files: burst, limit: concurrent, talkMilliseconds: 200)
            table.add("--max-concurrent \(concurrent), \(burst) calls of 200 ms",
                      target: "≤ \(concurrent) in flight",
                      result: "max \(result.maxInFlight) in flight, \(String(format: "%.0f", result.rate)) calls/s",
                      pass: result.maxInFlight <= concurrent)

        case .latency:
            let latency = try await context.dueToOriginate(files: latencyFiles)
            table.add("due time → Originate, \(latencyFiles) files over 5 s", target: "p99 ≤ 50 ms",
                      result: String(format: "p50 %.1f ms, p99 %.1f ms, max %.1f ms, min %.1f ms",
                                     latency.p50, latency.p99, latency.max, latency.min),
                      pass: latency.p99 <= 50)
        }
    }
}

// MARK: - One benchmark run's spool and spoold process

/// Shared plumbing: temporary spools, pre-written call files, the spoold child process and its sampler.
struct BenchContext {
    let binary: String
    let tmp: String
    /// The simulate throughput's spoold runs with --fsync.
    var fsync = false

    struct Throughput {
        let seconds: Double
        let rate: Double
        let peak: ProcessSample
        /// spoold's CPU time from the first rename to the last archive.
        let cpu: CPUTime
    }

    struct Startup {
        let seconds: Double
        let peak: ProcessSample
    }

    struct Rate {
        let achieved: Double
    }

    /// Figure 1: `files` instant-answer files renamed in at once; time until every one is archived.
    func throughputSimulate(files: Int) async throws -> Throughput {
        let spool = try BenchSpool(under: tmp)
        defer { spool.remove() }
        let text = "Channel: Sim/answer\nApplication: Playback\nData: bench\nArchive: yes\n"
        let names = try spool.stage(count: files, prefix: "tp", text: text)
        let child = try SpooldChild.start(binary: binary, spool: spool,
                                          extra: ["--backend", "simulate", "--max-concurrent", "0", "--max-cps", "0"]
                                              + (fsync ? ["--fsync"] : []))
        defer { child.stop() }
        try await child.waitReady()
        let sampler = ProcessSampler(pid: child.pid)
        sampler.start()
        let counter = try ArchiveCounter(directory: spool.done, expected: files)
        defer { counter.stop() }

        let cpuBefore = CPUTime.read(pid: child.pid)
        let start = Date()
        try spool.renameIn(names)
        let end = try await counter.wait(timeout: 600)
        let seconds = end.timeIntervalSince(start)
        let peak = sampler.stop()
        return Throughput(seconds: seconds, rate: Double(files) / seconds, peak: peak,
                          cpu: CPUTime.read(pid: child.pid) - cpuBefore)
    }

    /// Figure 2: `files` future-dated files present before start; time from launch to `spoold ready`.
    func startupScheduled(files: Int) async throws -> Startup {
        let spool = try BenchSpool(under: tmp)
        defer { spool.remove() }
        let text = "Channel: Sim/answer\nApplication: Playback\nData: later\n"
        let names = try spool.stage(count: files, prefix: "later", text: text, mtime: Date().timeIntervalSince1970 + 7200)
        try spool.renameIn(names)

        let start = Date()
        let child = try SpooldChild.start(binary: binary, spool: spool, extra: ["--backend", "simulate"])
        defer { child.stop() }
        let sampler = ProcessSampler(pid: child.pid)
        sampler.start()
        try await child.waitReady(timeout: 120)
        let seconds = Date().timeIntervalSince(start)
        // Let the scheduler settle after the ready line, so the RSS figure is the steady state, not a race.
        try await Task.sleep(for: .milliseconds(500))
        return Startup(seconds: seconds, peak: sampler.stop())
    }

    /// Figure 3a: with `--max-cps cps` and more files than it allows, the completions per second over `seconds`.
    func rateLimit(cps: Int, seconds: Int) async throws -> Rate {
        let spool = try BenchSpool(under: tmp)
        defer { spool.remove() }
        let text = "Channel: Sim/answer\nApplication: Playback\nData: rate\nArchive: yes\n"
        // Two seconds of warm-up, the measured window, and a surplus so the limiter is never starved.
        let count = cps * (seconds + 4)
        let names = try spool.stage(count: count, prefix: "rate", text: text)
        try spool.renameIn(names)
        let child = try SpooldChild.start(binary: binary, spool: spool,
                                          extra: ["--backend", "simulate", "--max-cps", "\(cps)", "--max-concurrent", "0"])
        defer { child.stop() }
        try await child.waitReady()

        try await Task.sleep(for: .seconds(2))
        let (firstCount, firstTime) = (spool.archivedCount(), Date())
        try await Task.sleep(for: .seconds(seconds))
        let (lastCount, lastTime) = (spool.archivedCount(), Date())
        return Rate(achieved: Double(lastCount - firstCount) / lastTime.timeIntervalSince(firstTime))
    }
}

// MARK: - Figures through the test AMI server

/// The in-process AMI test server, timestamping every Originate as it arrives.
final class OriginateClock: @unchecked Sendable {
    // @unchecked: `arrivals` is only touched under `lock`.
    private let lock = NSLock()
    private var arrivals: [(time: Double, data: String)] = []

    func note(_ record: OriginateRecord) {
        let now = Date().timeIntervalSince1970
        let data = record.headers.first { $0.name == "Data" }?.value ?? ""
        lock.withLock { arrivals.append((now, data)) }
    }

    var all: [(time: Double, data: String)] { lock.withLock { arrivals } }
    var count: Int { lock.withLock { arrivals.count } }
}

extension BenchContext {
    struct Concurrency {
        let maxInFlight: Int
        let rate: Double
    }

    struct Latency {
        let p50: Double
        let p99: Double
        let max: Double
        let min: Double
    }

    /// Runs `body` with a test AMI server (Originates timestamped into the returned clock) and the spoold
    /// flags that reach it.
    func withAMIServer<T>(spool: BenchSpool, _ body: (OriginateClock, [String]) async throws -> T) async throws -> T {
        let clock = OriginateClock()
        var behaviour = AMITestServerConfiguration.Behaviour()
        behaviour.recordOriginates = false
        let configuration = AMITestServerConfiguration(username: "bench", secret: "bench-secret", behaviour: behaviour)
        let server = try await AMITestServer.start(configuration: configuration) { clock.note($0) }
        let secretFile = spool.root + "/ami.secret"
        try Data("bench-secret".utf8).write(to: URL(fileURLWithPath: secretFile))
        let flags = ["--backend", "ami", "--ami-host", "127.0.0.1", "--ami-port", "\(server.port)",
                     "--ami-user", "bench", "--ami-secret-file", secretFile]
        do {
            let result = try await body(clock, flags)
            try await server.stop()
            return result
        } catch {
            try? await server.stop()
            throw error
        }
    }

    /// Figure 1b: the throughput figure with every call placed through the test AMI server over loopback.
    func throughputAMI(files: Int) async throws -> Throughput {
        let spool = try BenchSpool(under: tmp)
        defer { spool.remove() }
        let text = "Channel: PJSIP/answer/0/0\nApplication: Playback\nData: bench\nArchive: yes\n"
        let names = try spool.stage(count: files, prefix: "ami", text: text)
        return try await withAMIServer(spool: spool) { _, flags in
            let child = try SpooldChild.start(binary: binary, spool: spool, extra: flags + ["--max-concurrent", "0", "--max-cps", "0"])
            defer { child.stop() }
            try await child.waitReady()
            let sampler = ProcessSampler(pid: child.pid)
            sampler.start()
            let counter = try ArchiveCounter(directory: spool.done, expected: files)
            defer { counter.stop() }
            let cpuBefore = CPUTime.read(pid: child.pid)
            let start = Date()
            try spool.renameIn(names)
            let end = try await counter.wait(timeout: 600)
            let seconds = end.timeIntervalSince(start)
            return Throughput(seconds: seconds, rate: Double(files) / seconds, peak: sampler.stop(),
                              cpu: CPUTime.read(pid: child.pid) - cpuBefore)
        }
    }

    /// Figure 3a through AMI: Originate arrivals per second in a window after a 2 s warm-up.
    func rateLimitAMI(cps: Int, seconds: Int) async throws -> Rate {
        let spool = try BenchSpool(under: tmp)
        defer { spool.remove() }
        let text = "Channel: PJSIP/answer/0/0\nApplication: Playback\nData: rate\n"
        try spool.renameIn(try spool.stage(count: cps * (seconds + 4), prefix: "rate", text: text))
        return try await withAMIServer(spool: spool) { clock, flags in
            let child = try SpooldChild.start(binary: binary, spool: spool,
                                              extra: flags + ["--max-cps", "\(cps)", "--max-concurrent", "0"])
            defer { child.stop() }
            try await child.waitReady()
            let begin = Date().timeIntervalSince1970 + 2
            try await Task.sleep(for: .seconds(seconds + 3))
            let inWindow = clock.all.filter { $0.time >= begin && $0.time < begin + Double(seconds) }.count
            return Rate(achieved: Double(inWindow) / Double(seconds))
        }
    }

    /// Figure 3b: a burst of calls that each last `talkMilliseconds` at the PBX. Every call is up from its
    /// Originate for at least that long, so the most Originates in any such window bounds the calls in flight.
    func concurrencyAMI(files: Int, limit: Int, talkMilliseconds: Int) async throws -> Concurrency {
        let spool = try BenchSpool(under: tmp)
        defer { spool.remove() }
        let text = "Channel: PJSIP/answer/0/\(talkMilliseconds)\nApplication: Playback\nData: burst\nArchive: yes\n"
        let names = try spool.stage(count: files, prefix: "burst", text: text)
        return try await withAMIServer(spool: spool) { clock, flags in
            let child = try SpooldChild.start(binary: binary, spool: spool,
                                              extra: flags + ["--max-concurrent", "\(limit)", "--max-cps", "0"])
            defer { child.stop() }
            try await child.waitReady()
            let counter = try ArchiveCounter(directory: spool.done, expected: files)
            defer { counter.stop() }
            let start = Date()
            try spool.renameIn(names)
            let seconds = try await counter.wait(timeout: 900).timeIntervalSince(start)
            let times = clock.all.map(\.time).sorted()
            let window = Double(talkMilliseconds) / 1000
            var most = 0
            var first = 0
            for last in times.indices {
                while times[last] - times[first] >= window { first += 1 }
                most = max(most, last - first + 1)
            }
            return Concurrency(maxInFlight: most, rate: Double(files) / seconds)
        }
    }

    /// Figure 4: files due at distinct instants over 5 s; latency from each file's mtime to its Originate.
    func dueToOriginate(files: Int) async throws -> Latency {
        let spool = try BenchSpool(under: tmp)
        defer { spool.remove() }
        let base = Date().timeIntervalSince1970 + 4
        let spacing = 5.0 / Double(max(files, 1))
        var names: [String] = []
        for index in 0..<files {
            let text = "Channel: PJSIP/answer/0/0\nApplication: Playback\nData: \(index)\n"
            names += try spool.stage(count: 1, prefix: "due-\(index)", text: text,
                                     mtime: base + Double(index) * spacing)
        }
        return try await withAMIServer(spool: spool) { clock, flags in
            let child = try SpooldChild.start(binary: binary, spool: spool,
                                              extra: flags + ["--max-concurrent", "0", "--max-cps", "0"])
            defer { child.stop() }
            try await child.waitReady()
            try spool.renameIn(names)
            let deadline = Date().addingTimeInterval(60)
            while clock.count < files && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            let latencies = clock.all.compactMap { arrival -> Double? in
                guard let index = Int(arrival.data) else { return nil }
                return (arrival.time - (base + Double(index) * spacing)) * 1000
            }.sorted()
            guard !latencies.isEmpty else { throw BenchError.timeout("any Originate") }
            func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
            return Latency(p50: percentile(0.5), p99: percentile(0.99), max: latencies.last!, min: latencies.first!)
        }
    }
}

// MARK: - Temporary spool with pre-staged files

/// A spool root with a staging directory beside `outgoing`, so files are written before the clock starts
/// and then renamed in, which is atomic and cheap.
struct BenchSpool {
    let root: String
    var outgoing: String { root + "/outgoing" }
    var done: String { root + "/outgoing_done" }
    var staging: String { root + "/staging" }

    init(under directory: String) throws {
        root = directory + "/spoold-bench-\(getpid())-\(UUID().uuidString.prefix(8))"
        // outgoing_done exists from the start so that archives can be counted from inotify events.
        for sub in ["/outgoing", "/outgoing_done", "/staging"] {
            try FileManager.default.createDirectory(atPath: root + sub, withIntermediateDirectories: true)
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// Writes `count` copies of `text` into staging (optionally with the mtime `mtime`); returns their names.
    func stage(count: Int, prefix: String, text: String, mtime: Double? = nil) throws -> [String] {
        let bytes = Array(text.utf8)
        var names: [String] = []
        names.reserveCapacity(count)
        for index in 0..<count {
            let name = "\(prefix)-\(index).call"
            let path = staging + "/" + name
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw BenchError.system("open \(path)", errno) }
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
            guard written == bytes.count else { throw BenchError.system("write \(path)", errno) }
            if let due = mtime {
                let whole = due.rounded(.down)
                let stamp = timespec(tv_sec: Int(whole), tv_nsec: Int((due - whole) * 1e9))
                var times = [stamp, stamp]
                guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { throw BenchError.system("utimensat \(path)", errno) }
            }
            names.append(name)
        }
        return names
    }

    func renameIn(_ names: [String]) throws {
        for name in names {
            guard rename(staging + "/" + name, outgoing + "/" + name) == 0 else {
                throw BenchError.system("rename \(name)", errno)
            }
        }
    }

    /// Entries in outgoing_done; spoold never shows an archive there before its Status line is written.
    func archivedCount() -> Int {
        guard let directory = opendir(done) else { return 0 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            if entry.pointee.d_name.0 != UInt8(ascii: ".") { count += 1 }
        }
        return count
    }
}

// MARK: - The spoold child process

/// `spoold run` on a bench spool; stderr goes to a file in the spool root, read for the ready line.
final class SpooldChild {
    let process: Process
    let logPath: String

    var pid: Int32 { process.processIdentifier }

    private init(process: Process, logPath: String) {
        self.process = process
        self.logPath = logPath
    }

    static func start(binary: String, spool: BenchSpool, extra: [String]) throws -> SpooldChild {
        let logPath = spool.root + "/spoold.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? log.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", "--spool-dir", spool.root, "--log-level", "notice"] + extra
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
        return SpooldChild(process: process, logPath: logPath)
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func waitReady(timeout: Double = 60) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !log.contains("spoold ready") {
            guard process.isRunning else { throw BenchError.exited(log) }
            guard Date() < deadline else { throw BenchError.timeout("spoold ready") }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    func stop() {
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }
}

// MARK: - Threads, RSS and CPU time from /proc

/// A process's user and system CPU time, from /proc/<pid>/stat.
struct CPUTime: CustomStringConvertible {
    var user = 0.0
    var system = 0.0

    static func read(pid: Int32) -> CPUTime {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return CPUTime() }
        // After the command name: state is field 3, utime field 14, stime field 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12 else { return CPUTime() }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return CPUTime(user: (Double(fields[11]) ?? 0) / ticks, system: (Double(fields[12]) ?? 0) / ticks)
    }

    static func - (lhs: CPUTime, rhs: CPUTime) -> CPUTime {
        CPUTime(user: lhs.user - rhs.user, system: lhs.system - rhs.system)
    }

    var description: String { String(format: "CPU %.2f s user + %.2f s sys", user, system) }
}

struct ProcessSample {
    var threads = 0
    var rssKiB = 0
    var rssMiB: Int { (rssKiB + 1023) / 1024 }

    static func read(pid: Int32) -> ProcessSample? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        var sample = ProcessSample()
        for line in status.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2 else { continue }
            if fields[0] == "Threads:" { sample.threads = Int(fields[1]) ?? 0 }
            if fields[0] == "VmRSS:" { sample.rssKiB = Int(fields[1]) ?? 0 }
        }
        return sample
    }
}

/// Samples a process's /proc status every 20 ms on its own thread and keeps the peaks.
final class ProcessSampler: @unchecked Sendable {
    // @unchecked: `peak` and `running` are only touched under `lock`.
    private let pid: Int32
    private let lock = NSLock()
    private var peak = ProcessSample()
    private var running = true

    init(pid: Int32) { self.pid = pid }

    func start() {
        Thread { [self] in
            while lock.withLock({ running }) {
                if let sample = ProcessSample.read(pid: pid) {
                    lock.withLock {
                        peak.threads = max(peak.threads, sample.threads)
                        peak.rssKiB = max(peak.rssKiB, sample.rssKiB)
                    }
                }
                usleep(20_000)
            }
        }.start()
    }

    func stop() -> ProcessSample {
        if let last = ProcessSample.read(pid: pid) {
            lock.withLock {
                peak.threads = max(peak.threads, last.threads)
                peak.rssKiB = max(peak.rssKiB, last.rssKiB)
            }
        }
        return lock.withLock {
            running = false
            return peak
        }
    }
}

// MARK: - Output

enum BenchError: Error, CustomStringConvertible {
    case system(String, Int32)
    case timeout(String)
    case exited(String)

    var description: String {
        switch self {
        case .system(let what, let code): "\(what): \(String(cString: strerror(code)))"
        case .timeout(let what): "timed out waiting for \(what)"
        case .exited(let log): "spoold exited early:\n\(log.suffix(2000))"
        }
    }
}

/// Figure, target, result, pass/fail, as aligned columns.
struct FigureTable {
    /// Which binary the figures are of ("before", "now") when a baseline is measured beside; nil otherwise.
    var label: String? = nil
    private var rows: [(String, String, String, String)] = []

    init(label: String? = nil) { self.label = label }

    mutating func add(_ figure: String, target: String, result: String, pass: Bool?) {
        rows.append((figure, target, result, pass.map { $0 ? "pass" : "FAIL" } ?? ""))
        let prefix = "engine" + (label.map { " (\($0))" } ?? "") + ": "
        printFigure(prefix + figure.trimmingCharacters(in: .whitespaces), target: target, result: result, pass: pass)
    }

    func print() {
        let header = ("figure", "target", "result", "")
        let all = [header] + rows
        let widths = [all.map(\.0.count).max() ?? 0, all.map(\.1.count).max() ?? 0, all.map(\.2.count).max() ?? 0]
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        Swift.print("")
        for (index, row) in all.enumerated() {
            Swift.print("\(pad(row.0, widths[0]))  \(pad(row.1, widths[1]))  \(pad(row.2, widths[2]))  \(row.3)")
            if index == 0 {
                Swift.print(String(repeating: "-", count: widths.reduce(0, +) + 10))
            }
        }
    }
}
