import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `spoold-bench cost`: what spoold itself costs per call, the figures of issue 16, each beside its target.
/// With `--baseline` a previous spoold binary (the previous commit, built beside) is measured in the same
/// run, so the comparison is a ratio on one machine at one load, not two runs on different days.
struct CostBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost",
        abstract: "spoold's CPU per call through an out-of-process AMI server, simulate throughput against the system-call floor, and a million future files.",
        discussion: """
            cpu: spoold's user + system time (from /proc/<pid>/stat, spoold's process only) for --calls calls \
            answered and hung up at once by ami-test-server running as a separate process, at spoold's default \
            limits (100 in flight, 50 per second: --calls 20000 takes 400 s) and with no limits. \
            floor: a tight loop that makes only the system calls a spooler must make per file (open, fstat, \
            read, append a record, set the mtime, append Status, close, rename into outgoing_done), and \
            spoold's simulate throughput on as many files, as a ratio of it. \
            million: --future future-dated files, time from launch to `spoold ready`, and peak RSS. \
            timing: due time → Originate p99 and --max-cps pacing, which the cuts must not spoil.
            """
    )

    enum Figure: String, CaseIterable, ExpressibleByArgument {
        case cpu, floor, million, timing
    }

    @Option(help: "Calls through the AMI server for the CPU-per-call figures.")
    var calls = 20_000

    @Option(help: "Files for the floor and the simulate throughput.")
    var files = 20_000

    @Option(help: "Future-dated files present at start-up.")
    var future = 1_000_000

    @Option(help: "The spoold executable to measure (default: next to this benchmark).")
    var spoold: String?

    @Option(help: "A previous spoold executable measured beside it in the same run (the 'before' column).")
    var baseline: String?

    @Option(help: "The ami-test-server executable (default: next to this benchmark).")
    var amiTestServer: String?

    @Option(help: "Where temporary spools go.")
    var tmp = FileManager.default.temporaryDirectory.path

    @Option(name: .customLong("only"), parsing: .upToNextOption,
            help: "Measure only these figures (\(Figure.allCases.map(\.rawValue).joined(separator: ", "))); default: all.")
    var only: [Figure] = []

    @Option(help: "Measure each figure this many times, the binaries' order swapped each time (the binary measured first tends to do better); the table shows each binary's median.")
    var repeats = 1

    func validate() throws {
        guard calls > 0, files > 0, future > 0 else { throw ValidationError("--calls, --files and --future must be positive") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    }

    func run() async throws {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let current = spoold ?? here.appendingPathComponent("spoold").path
        let server = amiTestServer ?? here.appendingPathComponent("ami-test-server").path
        for binary in [current, server] + (baseline.map { [$0] } ?? []) where !FileManager.default.isExecutableFile(atPath: binary) {
            throw ValidationError("no executable at \(binary); build it first (swift build -c release)")
        }
        print("spoold cost benchmark: \(current)\(baseline.map { ", baseline \($0)" } ?? "")")
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, load average \(loadAverage())")

        let binaries = (baseline.map { [("before", $0)] } ?? []) + [("now", current)]
        var table = ComparisonTable(columns: binaries.map(\.0))
        let chosen = only.isEmpty ? Figure.allCases : only
        for figure in Figure.allCases where chosen.contains(figure) {
            var samples: [String: [String: [Double]]] = [:]
            for round in 0..<repeats {
                // Swapped every other round: measured twice in a row, the second binary did worse by up to
                // 15 % (1,000,000 future files made afresh where a million were just removed), whichever
                // binary it was.
                for (column, binary) in round.isMultiple(of: 2) ? binaries : binaries.reversed() {
                    let context = BenchContext(binary: binary, tmp: tmp)
                    for (row, value) in try await measure(figure, context: context, server: server) {
                        samples[row, default: [:]][column, default: []].append(value)
                    }
                }
            }
            for row in Self.rows(of: figure, calls: calls, files: files, future: future) {
                let values = samples[row.name] ?? [:]
                if repeats > 1 {
                    let each = binaries.map { column, _ in
                        "\(column): " + (values[column] ?? []).map { String(format: row.format, $0) }.joined(separator: ", ")
                    }
                    print("BENCH\tcost: \(row.name), each round\t\(each.joined(separator: "; "))")
                }
                table.add(row.name, target: row.target, values: values.mapValues(Self.median), format: row.format, pass: row.pass)
            }
        }
        table.print()
        print("load average at the end: \(loadAverage())")
    }

    /// The middle value (the mean of the two middle ones for an even count).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let middle = sorted.count / 2
        return sorted.count.isMultiple(of: 2) ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle]
    }

    /// One row of the table: its name, its target and how a value is judged against it.
    struct Row {
        var name: String
        var target: String
        var format: String
        var pass: ((Double) -> Bool)?
    }

    static func rows(of figure: Figure, calls: Int, files: Int, future: Int) -> [Row] {
        switch figure {
        case .cpu:
            return [
                Row(name: "CPU per call, AMI out of process, default limits (\(calls) calls)", target: "≤ 60 µs", format: "%.1f µs", pass: { $0 <= 60 }),
                Row(name: "CPU per call, AMI out of process, no limits (\(calls) calls)", target: "—", format: "%.1f µs", pass: nil),
                Row(name: "context switches per call, default limits", target: "—", format: "%.1f", pass: nil),
                Row(name: "context switches per call, no limits", target: "—", format: "%.2f", pass: nil),
                Row(name: "threads, AMI backend, after the calls", target: "—", format: "%.0f", pass: nil),
                Row(name: "idle CPU, AMI logged in, no files (10 s)", target: "—", format: "%.2f ms/s", pass: nil),
            ]
        case .floor:
            return [
                Row(name: "floor: per-file system calls only (\(files) files)", target: "—", format: "%.0f files/s", pass: nil),
                Row(name: "simulate throughput, no limits (\(files) files)", target: "≥ 30000 files/s", format: "%.0f files/s", pass: { $0 >= 30_000 }),
                Row(name: "simulate throughput / floor", target: "≥ 75 %", format: "%.0f %%", pass: { $0 >= 75 }),
            ]
        case .million:
            return [
                Row(name: "start-up with \(future) future files", target: "≤ 2.5 s", format: "%.2f s", pass: { $0 <= 2.5 }),
                Row(name: "peak RSS with \(future) future files", target: "≤ 160 MiB", format: "%.0f MiB", pass: { $0 <= 160 }),
            ]
        case .timing:
            return [
                Row(name: "due time → Originate p99 (2000 files over 5 s)", target: "≤ 50 ms", format: "%.1f ms", pass: { $0 <= 50 }),
                Row(name: "--max-cps 50 pacing (AMI, 10 s)", target: "within ±2 %", format: "%+.2f %%", pass: { abs($0) <= 2 }),
            ]
        }
    }

    /// The figure's values for one spoold binary, by row name.
    func measure(_ figure: Figure, context: BenchContext, server: String) async throws -> [String: Double] {
        let names = Self.rows(of: figure, calls: calls, files: files, future: future).map(\.name)
        switch figure {
        case .cpu:
            let limited = try await context.cpuPerCallOutOfProcess(calls: calls, server: server, limits: [], idleSeconds: 10)
            let unlimited = try await context.cpuPerCallOutOfProcess(calls: calls, server: server,
                                                                     limits: ["--max-concurrent", "0", "--max-cps", "0"])
            return [names[0]: limited.cpuPerCall, names[1]: unlimited.cpuPerCall,
                    names[2]: limited.switchesPerCall, names[3]: unlimited.switchesPerCall,
                    names[4]: Double(limited.threads), names[5]: limited.idleMillisecondsPerSecond ?? .nan]
        case .floor:
            let floor = try FloorLoop.measure(files: files, under: tmp)
            let simulated = try await context.throughputSimulate(files: files)
            return [names[0]: floor, names[1]: simulated.rate, names[2]: simulated.rate / floor * 100]
        case .million:
            let startup = try await context.startupScheduled(files: future)
            return [names[0]: startup.seconds, names[1]: Double(startup.peak.rssMiB)]
        case .timing:
            let latency = try await context.dueToOriginate(files: 2_000)
            let rate = try await context.rateLimitAMI(cps: 50, seconds: 10)
            return [names[0]: latency.p99, names[1]: (rate.achieved - 50) / 50 * 100]
        }
    }
}

// MARK: - The AMI test server as a process of its own

extension BenchContext {
    /// What one spoold spends on `calls` calls, and at rest.
    struct CallCost {
        /// µs of user + system CPU per call.
        var cpuPerCall: Double
        /// Context switches of all its threads per call: each is a thread that went to sleep and was woken,
        /// the count that does not depend on the machine's load.
        var switchesPerCall: Double
        var threads: Int
        /// ms of CPU per second once logged in, with no files (when asked for).
        var idleMillisecondsPerSecond: Double?
    }

    /// spoold's CPU per call in µs: `calls` instant-answer calls through `ami-test-server` running as a
    /// separate process, so that only spoold's own work is counted (read from /proc after `spoold ready`,
    /// so the log-in is not). With `idleSeconds`, its CPU at rest is read first, over that long.
    func cpuPerCallOutOfProcess(calls: Int, server: String, limits: [String], idleSeconds: Int? = nil) async throws -> CallCost {
        let spool = try BenchSpool(under: tmp)
        defer { spool.remove() }
        let text = "Channel: PJSIP/answer/0/0\nApplication: Playback\nData: cost\nArchive: yes\n"
        let names = try spool.stage(count: calls, prefix: "cost", text: text)
        let pbx = try ServerProcess.start(server, arguments: ["--port", "0", "--user", "bench", "--secret", "bench-secret"])
        defer { pbx.stop() }
        let secretFile = spool.root + "/ami.secret"
        try Data("bench-secret".utf8).write(to: URL(fileURLWithPath: secretFile))
        let flags = ["--backend", "ami", "--ami-host", "127.0.0.1", "--ami-port", "\(pbx.port)",
                     "--ami-user", "bench", "--ami-secret-file", secretFile]
        let child = try SpooldChild.start(binary: binary, spool: spool, extra: flags + limits)
        defer { child.stop() }
        try await child.waitReady()
        var idle: Double?
        if let idleSeconds {
            try await Task.sleep(for: .seconds(1))  // the log-in's own work is over
            let start = CPUTime.read(pid: child.pid)
            try await Task.sleep(for: .seconds(idleSeconds))
            let spent = CPUTime.read(pid: child.pid) - start
            idle = (spent.user + spent.system) * 1000 / Double(idleSeconds)
        }
        let counter = try ArchiveCounter(directory: spool.done, expected: calls)
        defer { counter.stop() }
        let before = CPUTime.read(pid: child.pid)
        let switchesBefore = ContextSwitches.read(pid: child.pid)
        try spool.renameIn(names)
        _ = try await counter.wait(timeout: Double(calls) / 10 + 120)
        let used = CPUTime.read(pid: child.pid) - before
        let switches = ContextSwitches.read(pid: child.pid) - switchesBefore
        return CallCost(cpuPerCall: (used.user + used.system) / Double(calls) * 1e6,
                        switchesPerCall: Double(switches) / Double(calls),
                        threads: ProcessSample.read(pid: child.pid)?.threads ?? 0, idleMillisecondsPerSecond: idle)
    }
}

/// Voluntary and involuntary context switches of a process, summed over its threads (/proc/PID/task/*/status).
/// A thread that ends in between takes its count with it: spoold's threads live as long as it does.
enum ContextSwitches {
    static func read(pid: Int32) -> Int {
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return 0 }
        var total = 0
        for thread in threads {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(thread)/status", encoding: .utf8) else { continue }
            for line in status.split(separator: "\n") where line.contains("ctxt_switches:") {
                total += Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).last ?? "") ?? 0
            }
        }
        return total
    }
}

/// A child process that prints `listening on HOST:PORT` when it is ready (ami-test-server).
final class ServerProcess {
    let process: Process
    let port: Int

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    static func start(_ executable: String, arguments: [String]) throws -> ServerProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var text = ""
        while !text.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw BenchError.exited("\(executable) ended before it was listening") }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let line = text.split(separator: "\n").first, line.hasPrefix("listening on "),
              let port = line.split(separator: ":").last.flatMap({ Int($0) }) else {
            process.terminate()
            throw BenchError.exited("\(executable) said: \(text)")
        }
        return ServerProcess(process: process, port: port)
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

// MARK: - The floor: the system calls alone

/// What a spooler cannot avoid per file, with nothing else: open, fstat, read, append StartRetry, set the
/// times, append Status, close, and one no-replace rename into outgoing_done. Files per second.
enum FloorLoop {
    static func measure(files: Int, under tmp: String) throws -> Double {
        let spool = try BenchSpool(under: tmp)
        defer { spool.remove() }
        let text = "Channel: Sim/answer\nApplication: Playback\nData: bench\nArchive: yes\n"
        let names = try spool.stage(count: files, prefix: "floor", text: text)
        try spool.renameIn(names)
        let outgoing = open(spool.outgoing, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        let done = open(spool.done, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard outgoing >= 0, done >= 0 else { throw BenchError.system("open the spool", errno) }
        defer { close(outgoing); close(done) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        let record = Array("\nStartRetry: 4242 1 (1795364000)\n".utf8)
        let status = Array("Status: Completed\n".utf8)
        let start = Date()
        for name in names {
            let fd = openat(outgoing, name, O_RDWR | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else { throw BenchError.system("open \(name)", errno) }
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw BenchError.system("fstat \(name)", errno) }
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            guard count >= 0 else { throw BenchError.system("read \(name)", errno) }
            guard record.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == record.count else {
                throw BenchError.system("write \(name)", errno)
            }
            var times = [timespec(tv_sec: 1_795_364_030, tv_nsec: 0), timespec(tv_sec: 1_795_364_060, tv_nsec: 0)]
            guard futimens(fd, &times) == 0 else { throw BenchError.system("futimens \(name)", errno) }
            guard status.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == status.count else {
                throw BenchError.system("write \(name)", errno)
            }
            close(fd)
            guard renameNoReplace(outgoing, name, done, name, 1 /* RENAME_NOREPLACE */) == 0 else {
                throw BenchError.system("renameat2 \(name)", errno)
            }
        }
        return Double(files) / Date().timeIntervalSince(start)
    }

    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32

    /// glibc's renameat2, looked up at run time as spoold does (Swift's Glibc module does not export it).
    private static let renameNoReplace: RenameAt2 = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else {
            fatalError("glibc without renameat2: the floor cannot be measured as spoold archives")
        }
        return unsafeBitCast(symbol, to: RenameAt2.self)
    }()
}

/// Figure, target, one value column per binary measured, pass/fail of the last column.
struct ComparisonTable {
    let columns: [String]
    private var rows: [[String]] = []

    init(columns: [String]) { self.columns = columns }

    mutating func add(_ figure: String, target: String, values: [String: Double], format: String, pass: ((Double) -> Bool)?) {
        let cells = columns.map { values[$0].map { String(format: format, $0) } ?? "—" }
        let verdict = columns.last.flatMap { values[$0] }.flatMap { value in pass.map { $0(value) ? "pass" : "FAIL" } } ?? ""
        if columns.count > 1, let before = values[columns[0]], let now = values[columns.last!], before != 0 {
            rows.append([figure, target] + cells + [String(format: "×%.2f", now / before), verdict])
        } else {
            rows.append([figure, target] + cells + (columns.count > 1 ? ["—"] : []) + [verdict])
        }
        printFigure("cost: " + figure, target: target, result: cells.joined(separator: " → "), pass: verdict.isEmpty ? nil : verdict == "pass")
    }

    func print() {
        let header = ["figure", "target"] + columns + (columns.count > 1 ? ["now/before"] : []) + [""]
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        Swift.print("")
        for (index, row) in all.enumerated() {
            Swift.print(zip(row, widths).map { $0 + String(repeating: " ", count: max(0, $1 - $0.count)) }.joined(separator: "  "))
            if index == 0 { Swift.print(String(repeating: "-", count: widths.reduce(0, +) + 2 * widths.count)) }
        }
    }
}
