import Foundation
import Synchronization
import Testing
import TestSupport
@testable import SpoolWatcher

/// A fresh `root/outgoing` plus `root/staging` on the same file system, removed afterwards.
final class TemporarySpool: Sendable {
    let root: String
    var outgoing: String { root + "/outgoing" }
    var staging: String { root + "/staging" }

    init() throws {
        var template = Array("/tmp/spoold-watcher-test-XXXXXX".utf8) + [0]
        let made = template.withUnsafeMutableBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { mkdtemp($0.baseAddress!) }
        }
        try #require(made != nil)
        root = String(decoding: template.dropLast(), as: UTF8.self)
        try FileManager.default.createDirectory(atPath: root + "/outgoing", withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: root + "/staging", withIntermediateDirectories: false)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Runs a shell command in `root`, the way an administrator or a writer would.
    func shell(_ command: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "command failed: \(command)")
    }

    func write(_ path: String, _ text: String = "Channel: Local/100@test\n") throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: root + "/" + path))
    }
}

/// Consumes a watcher in a task and keeps every change, so a test can wait for the one it expects.
final class Recorder: Sendable {
    private final class Log: Sendable {
        let changes = Mutex<[SpoolChange]>([])
    }

    private let log: Log
    private let task: Task<Void, Never>

    /// `viaRun`: through `SpoolWatcher.run(deliver:)` (batches handed over on the watcher's thread) instead
    /// of iterating the sequence.
    init(_ watcher: SpoolWatcher, viaRun: Bool = false) {
        let log = Log()
        self.log = log
        task = Task {
            if viaRun {
                await watcher.run { batch in log.changes.withLock { $0.append(contentsOf: batch) } }
                return
            }
            for await batch in watcher {
                log.changes.withLock { $0.append(contentsOf: batch) }
            }
        }
    }

    var changes: [SpoolChange] { log.changes.withLock { $0 } }

    /// Waits until the changes seen so far satisfy `condition`; on timeout records an issue naming `what`
    /// (with the changes seen) and returns false.
    func waitForChanges(_ what: String, timeout: Duration = .seconds(30),
                        where condition: ([SpoolChange]) -> Bool) async -> Bool {
        do {
            try await TestSupport.waitUntil(what, timeout: timeout, every: .milliseconds(10),
                                            details: { "changes seen: \(self.changes)" }) {
                log.changes.withLock { condition($0) }
            }
            return true
        } catch {
            Issue.record(error)
            return false
        }
    }

    func waitFor(_ change: SpoolChange, timeout: Duration = .seconds(30)) async -> Bool {
        await waitForChanges("\(change)", timeout: timeout) { $0.contains(change) }
    }

    /// Waits for a complete listing for which `condition` holds.
    func waitForRescan(reason: RescanReason, timeout: Duration = .seconds(30),
                       where condition: @escaping ([String]) -> Bool = { _ in true }) async -> [String]? {
        var found: [String]?
        _ = await waitForChanges("a \(reason) rescan", timeout: timeout) { changes in
            for case .rescan(let names, let why) in changes.reversed() where why == reason && condition(names) {
                found = names
                return true
            }
            return false
        }
        return found
    }

    /// Cancels the consuming task and waits for the iteration to end.
    func stop() async {
        task.cancel()
        await task.value
    }
}

/// The kernel's view of this process's inotify watches (from /proc/self/fdinfo): the inode numbers
/// watched, to check that a cancelled watcher released its watch.
enum KernelWatches {
    static func watchedInodes() -> Set<UInt64> {
        var inodes: Set<UInt64> = []
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for descriptor in descriptors {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(descriptor)"),
                  target == "anon_inode:inotify",
                  let info = try? String(contentsOfFile: "/proc/self/fdinfo/\(descriptor)", encoding: .utf8)
            else { continue }
            for line in info.split(separator: "\n") where line.hasPrefix("inotify wd:") {
                for field in line.split(separator: " ") where field.hasPrefix("ino:") {
                    if let inode = UInt64(field.dropFirst(4), radix: 16) { inodes.insert(inode) }
                }
            }
        }
        return inodes
    }

    static func inode(of path: String) -> UInt64? {
        DirectoryIdentity.of(path)?.inode
    }
}
