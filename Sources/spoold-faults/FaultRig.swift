import AMITestServer
import Foundation
import SimulatedCalls
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A reproducible random source: the seed is printed, so any run can be repeated exactly.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// SplitMix64: tiny, fast, and good enough to pick kill moments.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Wall-clock seconds; dial times and kill windows are compared on the same clock.
func now() -> Double { Date().timeIntervalSince1970 }

/// Pauses for a chosen fault moment. Never used to wait for an outcome: those are polled with `waitUntil`.
func pause(_ seconds: Double) async throws {
    try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
}

/// A condition that did not become true in time: the suite calls that a hang.
struct Hang: Error, CustomStringConvertible {
    let what: String
    var description: String { "HANG: \(what) not reached in time" }
}

/// Polls `condition` every `interval` until it holds or `timeout` seconds pass.
func waitUntil(_ what: String, timeout: Double, interval: Double = 0.1, _ condition: () throws -> Bool) async throws {
    let deadline = now() + timeout
    while true {
        if try condition() { return }
        if now() > deadline { throw Hang(what: what) }
        try await pause(interval)
    }
}

/// One Originate as the test server saw it, with the time it arrived and the call file it came from.
struct Dial: Sendable {
    let time: Double
    let channelId: String
    let channel: String
    /// From the `FAULTFILE` variable each generated call file sets.
    let file: String
    let connection: Int

    /// When the server hangs this call up (answered) or ends it (not answered), from the channel convention.
    var estimatedEnd: Double {
        let outcome = CallOutcome(channel: channel)
        let ring = Double(outcome.responseDelayMilliseconds(originateTimeout: 60_000)) / 1000
        return time + ring + (outcome.answers ? Double(outcome.talkMilliseconds) / 1000 : 0)
    }
}

/// The test server's Originate log: the proof of how often each file was dialled.
final class DialLog: Sendable {
    private let dials = Mutex<[Dial]>([])

    func record(_ record: OriginateRecord) {
        let variables = record.headers.filter { $0.name.lowercased() == "variable" }.map(\.value)
        let file = variables.first { $0.hasPrefix("FAULTFILE=") }.map { String($0.dropFirst("FAULTFILE=".count)) } ?? ""
        let dial = Dial(time: now(), channelId: record.channelId ?? "", channel: record.channel ?? "",
                        file: file, connection: record.connection)
        dials.withLock { $0.append(dial) }
    }

    var all: [Dial] { dials.withLock { $0 } }

    var count: Int { dials.withLock { $0.count } }

    func byFile() -> [String: [Dial]] {
        Dictionary(grouping: all, by: \.file)
    }
}

/// Starts an in-process AMI test server that logs every Originate into `log`.
func startServer(port: Int = 0, log: DialLog) async throws -> AMITestServer {
    var behaviour = AMITestServerConfiguration.Behaviour()
    // The log below is the record; the server's own array would only duplicate it.
    behaviour.recordOriginates = false
    let configuration = AMITestServerConfiguration(port: port, authenticationFailureDelay: .milliseconds(10), behaviour: behaviour)
    return try await AMITestServer.start(configuration: configuration) { log.record($0) }
}

/// A spool directory tree: `outgoing/`, `outgoing_done/`, and a staging directory on the same file system
/// so that call files appear in `outgoing/` by an atomic rename, as mkcall does.
struct FaultSpool {
    let root: String
    var outgoing: String { root + "/outgoing" }
    var done: String { root + "/outgoing_done" }
    var staging: String { root + "/staging" }
    var secretFile: String { root + "/secret" }

    init(root: String) throws {
        self.root = root
        for directory in [root, outgoing, done, staging] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try write(Array("secret\n".utf8), to: secretFile, mode: 0o600)
    }

    static func temporary(in parent: String, label: String) throws -> FaultSpool {
        let root = parent + "/spoold-faults-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        return try FaultSpool(root: root)
    }

    /// Writes `bytes` to staging, optionally sets the mtime, and renames it into `outgoing/<name>`.
    func submit(_ name: String, _ bytes: [UInt8], mtime: Double? = nil) throws {
        let staged = staging + "/" + name
        try write(bytes, to: staged, mode: 0o644)
        if let mtime { try setMtime(staged, mtime) }
        guard rename(staged, outgoing + "/" + name) == 0 else { throw SystemError("rename \(staged)", errno) }
    }

    func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw SystemError("open \(path)", errno) }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            guard written > 0 else { throw SystemError("write \(path)", errno) }
            offset += written
        }
    }

    func setMtime(_ path: String, _ seconds: Double) throws {
        let whole = Int(seconds.rounded(.down))
        let spec = timespec(tv_sec: whole, tv_nsec: Int((seconds - Double(whole)) * 1e9))
        let times = [spec, spec]
        guard utimensat(AT_FDCWD, path, times, 0) == 0 else { throw SystemError("utimensat \(path)", errno) }
    }

    /// Names in `outgoing/` that spoold would consider (dotfiles are its own or a writer's staging).
    func pendingNames() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: outgoing)) ?? []).filter { !$0.hasPrefix(".") }
    }

    func doneNames() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: done)) ?? []
    }

    func read(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { Array($0) }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }
}

struct SystemError: Error, CustomStringConvertible {
    let what: String
    let code: Int32
    init(_ what: String, _ code: Int32) {
        self.what = what
        self.code = code
    }
    var description: String { "\(what): \(String(cString: strerror(code)))" }
}

/// One `spoold run` process on the AMI backend. Each incarnation logs to its own file in the spool root.
final class Daemon {
    let spool: FaultSpool
    let binary: String
    let extra: [String]
    private(set) var process: Process?
    /// Outside the spool when the spool's file system is the fault (disk full).
    let logDirectory: String
    private(set) var incarnation = 0
    var logPath: String { logPath(incarnation) }

    init(binary: String, spool: FaultSpool, extra: [String], logDirectory: String? = nil) {
        self.binary = binary
        self.spool = spool
        self.extra = extra
        self.logDirectory = logDirectory ?? spool.root
    }

    func logPath(_ number: Int) -> String { logDirectory + "/spoold-\(number).log" }

    var pid: Int32 { process?.processIdentifier ?? 0 }
    var isRunning: Bool { process?.isRunning ?? false }

    /// Launches spoold against the server on `amiPort` and waits for `spoold ready`.
    func launch(amiPort: Int, wrapper: [String] = []) async throws {
        incarnation += 1
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? logHandle.close() }
        let arguments = ["run", "--spool-dir", spool.root, "--backend", "ami", "--ami-host", "127.0.0.1",
                         "--ami-port", String(amiPort), "--ami-user", "spoold", "--ami-secret-file", spool.secretFile,
                         "--log-level", "info"] + extra
        let process = Process()
        if wrapper.isEmpty {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: wrapper[0])
            process.arguments = Array(wrapper.dropFirst()) + [binary] + arguments
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = logHandle
        process.standardError = logHandle
        try process.run()
        self.process = process
        try await waitUntil("spoold ready (incarnation \(incarnation))", timeout: 60) {
            if log(contains: "spoold ready") { return true }
            if !process.isRunning { throw Hang(what: "spoold exited at start-up:\n\(tail())") }
            return false
        }
    }

    func log(contains fragment: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: logPath) else { return false }
        return String(decoding: data, as: UTF8.self).contains(fragment)
    }

    /// Every log line of every incarnation so far.
    func allLogLines() -> [Substring] {
        (1...max(incarnation, 1)).flatMap { number -> [Substring] in
            guard let data = FileManager.default.contents(atPath: logPath(number)) else { return [] }
            return String(decoding: data, as: UTF8.self).split(separator: "\n")
        }
    }

    func tail(_ count: Int = 30) -> String {
        guard let data = FileManager.default.contents(atPath: logPath) else { return "" }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").suffix(count).joined(separator: "\n")
    }

    /// SIGKILL: the crash. Returns once the process is gone.
    func kill9() {
        guard let process, process.isRunning else { return }
        _ = Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait; a spoold that does not drain within `timeout` is a hang.
    func terminate(timeout: Double = 30) async throws {
        guard let process, process.isRunning else { return }
        _ = Glibc.kill(process.processIdentifier, SIGTERM)
        try await waitUntil("spoold to exit after SIGTERM", timeout: timeout) { !process.isRunning }
    }

    /// Peak resident set size in KiB (`VmHWM`), read while the process is alive.
    func peakRSSKiB() -> Int? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/status") else { return nil }
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        return line.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
    }

    deinit {
        kill9()
    }
}
