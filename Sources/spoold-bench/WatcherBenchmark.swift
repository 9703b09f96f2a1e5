import ArgumentParser
import Foundation
import SpoolWatcher

/// How fast a burst of renames into the spool is reported, and how long the start-up listing takes.
struct WatcherBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watcher",
        abstract: "Times a burst of renames into a watched directory and the start-up listing.")

    @Option(help: "Files renamed into the directory in one burst.")
    var files = 100_000

    @Option(help: "Where the temporary spool is made (staging and outgoing share its file system).")
    var base = NSTemporaryDirectory()

    @Option(help: "Start-up listings to time.")
    var listings = 5

    /// Where the files wait before the burst: a sibling directory (cross-directory renames, which the
    /// kernel serialises file-system wide) or `.` names inside `outgoing/` (the staging spoold's docs
    /// recommend; the watcher also receives, and ignores, the `IN_MOVED_FROM` of each dot name).
    enum Staging: String, CaseIterable {
        case siblingDirectory = "a staging directory beside outgoing"
        case dotNamesInside = "dot names inside outgoing"
    }

    func run() async throws {
        var complete = true
        var listed: (root: String, outgoing: String)?
        for staging in Staging.allCases {
            let root = try makeRoot()
            let outgoing = root + "/outgoing"
            let (stagingDirectory, prefix) = staging == .siblingDirectory ? (root + "/staging", "") : (outgoing, ".")
            // The same renames with nobody watching: what the file system allows on this machine.
            try createFiles(count: files, in: stagingDirectory, prefix: prefix)
            let unwatched = try renameAll(from: stagingDirectory, prefix: prefix, to: outgoing)
            try FileManager.default.removeItem(atPath: outgoing)
            try FileManager.default.createDirectory(atPath: outgoing, withIntermediateDirectories: false)

            try createFiles(count: files, in: stagingDirectory, prefix: prefix)
            let burst = try await timeBurst(from: stagingDirectory, prefix: prefix, to: outgoing)
            report(burst, staging: staging, unwatched: unwatched)
            complete = complete && burst.seen == files
            if let listed { try? FileManager.default.removeItem(atPath: listed.root) }
            listed = (root, outgoing)
        }
        guard let listed else { return }
        defer { try? FileManager.default.removeItem(atPath: listed.root) }

        var times: [Duration] = []
        for _ in 0..<listings {
            let (elapsed, count) = await timeStartUpListing(of: listed.outgoing)
            guard count == files else {
                print("watcher start-up listing: listed \(count) of \(files) entries")
                throw ExitCode.failure
            }
            times.append(elapsed)
        }
        times.sort()
        print("watcher start-up listing of \(files) entries: best \(format(times[0])) s, "
            + "median \(format(times[times.count / 2])) s (target <= 0.5 s)")
        printFigure("watcher: start-up listing of \(files) entries", target: "≤ 0.5 s",
                    result: "\(format(times[times.count / 2])) s (median)", pass: seconds(times[times.count / 2]) <= 0.5)
        if !complete { throw ExitCode.failure }
    }

    private func report(_ burst: Burst, staging: Staging, unwatched: Duration) {
        print("watcher burst, \(files) files from \(staging.rawValue):")
        print("  renames with no watcher: \(format(unwatched)) s = \(rate(files, unwatched)) renames/s")
        print("  renames while watched:   \(format(burst.renamed)) s = \(rate(files, burst.renamed)) renames/s")
        print("  \(burst.seen) distinct names reported \(format(burst.reported)) s after the first rename "
            + "= \(rate(burst.seen, burst.reported)) files/s (target >= 50000); "
            + "the last \(format(max(burst.reported - burst.renamed, .zero))) s after the last rename")
        print("  missed \(files - burst.seen), overflow rescan: \(burst.overflowed ? "yes" : "no")")
        printFigure("watcher: burst of \(files) renames (\(staging.rawValue))", target: "≥ 50000 files/s, none missed",
                    result: "\(rate(burst.seen, burst.reported)) files/s, \(files - burst.seen) missed",
                    pass: rate(burst.seen, burst.reported) >= 50_000 && burst.seen == files)
        if let cpu = burst.readerCPU {
            print("  reader thread CPU: \(format(cpu)) s for the burst = capacity \(rate(files, cpu)) files/s")
        }
    }

    private func rate(_ count: Int, _ duration: Duration) -> Int {
        seconds(duration) > 0 ? Int(Double(count) / seconds(duration)) : 0
    }

    private struct Burst {
        var renamed: Duration
        var reported: Duration
        var seen: Int
        var overflowed: Bool
        /// CPU time of the watcher's reader thread during the burst, when /proc shows it.
        var readerCPU: Duration?
    }

    /// Renames every staged file in while a watcher counts the distinct names it reports.
    private func timeBurst(from staging: String, prefix: String, to outgoing: String) async throws -> Burst {
        let expected = files
        var iterator = SpoolWatcher(directory: outgoing).makeAsyncIterator()
        guard let initial = await iterator.next(), initial == [.rescan([], reason: .initial)] else {
            throw ValidationError("the benchmark directory was not empty at start")
        }
        let counter = Task { [iterator] in
            var iterator = iterator
            var seen = Set<String>(minimumCapacity: expected)
            var overflowed = false
            while seen.count < expected, let batch = await iterator.next() {
                for change in batch {
                    switch change {
                    case .appeared(let name): seen.insert(name)
                    case .rescan(let names, let reason):
                        seen.formUnion(names)
                        if reason == .overflow { overflowed = true }
                    case .changed, .removed: break
                    }
                }
            }
            return (ContinuousClock.now, seen.count, overflowed)
        }
        let giveUp = Task {
            try await Task.sleep(for: .seconds(60))
            counter.cancel()
        }
        let cpuBefore = ReaderThread.cpuTime()
        let start = ContinuousClock.now
        let renamed = try renameAll(from: staging, prefix: prefix, to: outgoing)
        let (end, seen, overflowed) = await counter.value
        giveUp.cancel()
        let cpuAfter = ReaderThread.cpuTime()
        let readerCPU = cpuBefore.flatMap { before in cpuAfter.map { $0 - before } }
        return Burst(renamed: renamed, reported: end - start, seen: seen, overflowed: overflowed, readerCPU: readerCPU)
    }

    /// Renames `<prefix>fN.call` to `fN.call` for every N, as fast as one thread can; returns the time
    /// taken. Names and directory descriptors are ready before the clock starts.
    private func renameAll(from staging: String, prefix: String, to outgoing: String) throws -> Duration {
        let names = (0..<files).map { (Array("\(prefix)f\($0).call".utf8CString), Array("f\($0).call".utf8CString)) }
        let from = open(staging, O_RDONLY | O_DIRECTORY)
        let into = open(outgoing, O_RDONLY | O_DIRECTORY)
        defer { close(from); close(into) }
        let start = ContinuousClock.now
        for (old, new) in names {
            guard renameat(from, old, into, new) == 0 else {
                throw ValidationError("rename failed: \(String(cString: strerror(errno)))")
            }
        }
        return ContinuousClock.now - start
    }

    /// From asking for the sequence to holding its first batch, the complete listing.
    private func timeStartUpListing(of directory: String) async -> (Duration, Int) {
        let start = ContinuousClock.now
        var iterator = SpoolWatcher(directory: directory).makeAsyncIterator()
        let first = await iterator.next()
        let elapsed = ContinuousClock.now - start
        guard case .rescan(let names, .initial)? = first?.first else { return (elapsed, 0) }
        return (elapsed, names.count)
    }

    private func makeRoot() throws -> String {
        let separator = base.hasSuffix("/") ? "" : "/"
        var template = Array("\(base)\(separator)spoold-bench-watcher-XXXXXX".utf8) + [0]
        let made = template.withUnsafeMutableBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { mkdtemp($0.baseAddress!) }
        }
        guard made != nil else { throw ValidationError("cannot create a directory in \(base)") }
        let root = String(decoding: template.dropLast(), as: UTF8.self)
        try FileManager.default.createDirectory(atPath: root + "/outgoing", withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: root + "/staging", withIntermediateDirectories: false)
        return root
    }

    private func createFiles(count: Int, in directory: String, prefix: String) throws {
        let body = Array("Channel: Local/100@bench\nApplication: Wait\nData: 1\n".utf8)
        for index in 0..<count {
            let descriptor = open("\(directory)/\(prefix)f\(index).call", O_CREAT | O_WRONLY | O_TRUNC, 0o644)
            guard descriptor >= 0 else {
                throw ValidationError("cannot create files: \(String(cString: strerror(errno)))")
            }
            _ = body.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            close(descriptor)
        }
    }

    private func seconds(_ duration: Duration) -> Double {
        let (whole, fraction) = duration.components
        return Double(whole) + Double(fraction) / 1e18
    }

    private func format(_ duration: Duration) -> String {
        String(format: "%.3f", seconds(duration))
    }
}

/// The watcher's reader thread as /proc shows it, to tell its CPU cost from the renames'.
enum ReaderThread {
    static let name = "spoold-inotify"

    /// User plus system time of the thread named `name`, or nil if there is none.
    static func cpuTime() -> Duration? {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return nil }
        for task in tasks {
            guard let comm = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8),
                  comm.trimmingCharacters(in: .whitespacesAndNewlines) == name,
                  let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8),
                  let afterName = stat.lastIndex(of: ")")
            else { continue }
            // Fields after "(comm)": state is field 3, utime 14 and stime 15 (in clock ticks).
            let fields = stat[stat.index(after: afterName)...].split(separator: " ")
            guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
            let ticks = sysconf(Int32(_SC_CLK_TCK))
            return .milliseconds((user + system) * 1000 / ticks)
        }
        return nil
    }
}
