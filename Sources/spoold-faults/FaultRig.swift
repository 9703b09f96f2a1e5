import AMITestServer
import Foundation
import SimulatedCalls
import TestSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock seconds; dial times and kill windows are compared on the same clock.
func now() -> Double { Date().timeIntervalSince1970 }

/// Pauses for a chosen fault moment. Never used to wait for an outcome: those are polled with `waitUntil`.
func pause(_ seconds: Double) async throws {
    try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
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

extension TemporarySpool {
    /// The AMI secret spoold reads (`--ami-secret-file`).
    var secretFile: String { root + "/secret" }

    /// The spool of one scenario (TestSupport's, as the end-to-end tests use), with `outgoing_done/` and
    /// the AMI secret file in place: a fresh one in `parent`, or the one at `root` (a file system of its
    /// own). `keep` leaves it behind for a look afterwards.
    static func forFaults(in parent: String? = nil, root: String? = nil, label: String, keep: Bool) throws -> TemporarySpool {
        let spool = try root.map { try TemporarySpool(root: $0, removeWhenDone: !keep) }
            ?? TemporarySpool(in: parent, label: "faults-\(label)", removeWhenDone: !keep)
        try FileManager.default.createDirectory(atPath: spool.done, withIntermediateDirectories: true)
        try FileSystem.write(Array("secret\n".utf8), to: spool.secretFile, mode: 0o600)
        return spool
    }

    func read(_ path: String) -> [UInt8]? { FileSystem.read(path) }
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

/// The incarnations of one spoold on the AMI backend, each a TestSupport `SpooldProcess` (the end-to-end
/// tests' way of running the daemon) logging to its own file.
final class Daemon {
    let spool: TemporarySpool
    let binary: String
    let extra: [String]
    private(set) var current: SpooldProcess?
    /// Outside the spool when the spool's file system is the fault (disk full).
    let logDirectory: String
    private(set) var incarnation = 0
    var logPath: String { logPath(incarnation) }

    init(binary: String, spool: TemporarySpool, extra: [String], logDirectory: String? = nil) {
        self.binary = binary
        self.spool = spool
        self.extra = extra
        self.logDirectory = logDirectory ?? spool.root
    }

    func logPath(_ number: Int) -> String { logDirectory + "/spoold-\(number).log" }

    var pid: Int32 { current?.pid ?? 0 }
    var isRunning: Bool { current?.isRunning ?? false }

    /// Launches spoold against the server on `amiPort` and waits for `spoold ready`.
    func launch(amiPort: Int, wrapper: [String] = []) async throws {
        incarnation += 1
        let ami = ["--ami-host", "127.0.0.1", "--ami-port", String(amiPort), "--ami-user", "spoold",
                   "--ami-secret-file", spool.secretFile]
        let spoold = try SpooldProcess(spool: spool, arguments: ami + extra, backend: "ami", logLevel: "info",
                                       logPath: logPath, wrapper: wrapper, executable: URL(fileURLWithPath: binary))
        current = spoold
        try await spoold.waitForLog("spoold ready", timeout: .seconds(60))
    }

    func log(contains fragment: String) -> Bool {
        current?.log.contains(fragment) ?? false
    }

    /// Every log line of every incarnation so far.
    func allLogLines() -> [Substring] {
        (1...max(incarnation, 1)).flatMap { number -> [Substring] in
            guard let bytes = FileSystem.read(logPath(number)) else { return [] }
            return String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        }
    }

    func tail(_ count: Int = 30) -> String {
        (current?.logLines ?? []).suffix(count).joined(separator: "\n")
    }

    /// SIGKILL: the crash. Returns once the process is gone.
    func kill9() {
        current?.kill()
    }

    /// SIGTERM and wait; a spoold that does not drain within `timeout` seconds is a hang.
    func terminate(timeout: Double = 30) async throws {
        guard let current, current.isRunning else { return }
        try await current.terminate(timeout: .seconds(timeout))
    }

    /// Peak resident set size in KiB (`VmHWM`), read while the process is alive.
    func peakRSSKiB() -> Int? {
        guard let bytes = FileSystem.read("/proc/\(pid)/status") else { return nil }
        let line = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        return line.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
    }
}
