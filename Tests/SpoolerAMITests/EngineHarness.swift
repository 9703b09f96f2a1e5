#if canImport(Glibc)
import Glibc
#endif
import CallFile
import Logging
import SpoolWatcher
import Synchronization
import Testing
@testable import Spooler

/// An engine on a temporary spool with the manual clock, dialling through an AMI backend. Files are written
/// the way a careful writer does (elsewhere, then renamed in) and announced to the engine as the watcher
/// would. A trimmed copy of SpoolerTests' harness (test targets cannot share sources): it drives the
/// engine only through what SpoolerTests' harness uses, so an engine change updates both alike.
final class EngineHarness {
    static let t0 = SpoolInstant(seconds: 1_795_364_000)
    static let pid = 2381

    let root: String
    let clock: ManualSpoolClock
    let engine: SpoolEngine
    let log = LogCapture()
    private var events: AsyncStream<[EngineEvent]>.Iterator
    /// Events of a batch already taken from `events`, not yet looked at.
    private var unread: [EngineEvent] = []
    private let eventInput: AsyncStream<[EngineEvent]>.Continuation
    private let feed: AsyncStream<[SpoolChange]>.Continuation
    private var running: Task<Void, Never>?

    var outgoing: String { root + "/outgoing" }
    var done: String { root + "/outgoing_done" }

    init(
        clock sharedClock: ManualSpoolClock? = nil,
        backend: any CallBackend
    ) throws {
        var template = Array("/tmp/spooler-ami-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError("mkdtemp") }
        root = String(cString: made)
        mkdir(root + "/staging", 0o755)
        clock = sharedClock ?? ManualSpoolClock(now: Self.t0)
        let configuration = EngineConfiguration(spoolDirectory: root, maxConcurrent: 0, maxCallsPerSecond: 0,
                                                pid: Self.pid, shutdownGrace: .zero)
        let (changes, feed) = AsyncStream.makeStream(of: [SpoolChange].self)
        let (events, eventInput) = AsyncStream.makeStream(of: [EngineEvent].self)
        self.feed = feed
        self.events = events.makeAsyncIterator()
        self.eventInput = eventInput
        let capture = log
        engine = try SpoolEngine(configuration: configuration, backend: backend, clock: clock,
                                 logger: Logger(label: "test") { _ in capture }, changes: changes, events: eventInput)
    }

    /// Starts the engine and waits for its ready event.
    func start() async throws {
        let engine = self.engine
        running = Task { await engine.run() }
        _ = try await next { if case .ready = $0 { true } else { false } }
    }

    func stop() async {
        running?.cancel()
        await running?.value
        running = nil
    }

    // MARK: Files

    /// Writes `text` to staging, sets its mtime (default: now on the manual clock), renames it into outgoing/.
    func submit(_ name: String, _ text: String, mtime: SpoolInstant? = nil, announce: Bool = true) throws {
        try submit(name, bytes: Array(text.utf8), mtime: mtime, announce: announce)
    }

    func submit(_ name: String, bytes: [UInt8], mtime: SpoolInstant? = nil, announce: Bool = true) throws {
        let staged = root + "/staging/" + name
        try Self.write(bytes, to: staged)
        try Self.setMtime(staged, mtime ?? clock.now())
        guard rename(staged, outgoing + "/" + name) == 0 else { throw SystemError("rename") }
        if announce { changed(.appeared(name)) }
    }

    func changed(_ change: SpoolChange) { feed.yield([change]) }

    static func write(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw SystemError("open \(path)") }
        defer { close(fd) }
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else { throw SystemError("write") }
    }

    static func setMtime(_ path: String, _ mtime: SpoolInstant) throws {
        var times = [mtime.timespec, mtime.timespec]
        guard utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw SystemError("utimensat") }
    }

    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += buffer[..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func archived(_ name: String) -> String? { Self.read(done + "/" + name) }
    func inOutgoing(_ name: String) -> String? { Self.read(outgoing + "/" + name) }

    func mtime(_ path: String) -> SpoolInstant? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return SpoolInstant(st.st_mtim)
    }


    // MARK: Events

    /// The next event matching `predicate` (earlier ones are skipped); fails the test after 20 s.
    @discardableResult
    func next(_ what: String = "event", sourceLocation: SourceLocation = #_sourceLocation, _ predicate: (EngineEvent) -> Bool) async throws -> EngineEvent {
        let input = eventInput
        let watchdog = Task {
            try await Task.sleep(for: .seconds(20))
            input.finish()
        }
        defer { watchdog.cancel() }
        while true {
            if unread.isEmpty {
                guard let batch = await events.next() else { break }
                unread = batch
                continue
            }
            let event = unread.removeFirst()
            if predicate(event) { return event }
        }
        Issue.record("no \(what) within 20 s; log:\n\(log.lines.suffix(20).joined(separator: "\n"))", sourceLocation: sourceLocation)
        throw CancellationError()
    }

    func finished(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> (CallStatus, EngineEvent.Disposition) {
        let event = try await next("finish of \(name)", sourceLocation: sourceLocation) {
            if case .finished(name, _, _, _) = $0 { true } else { false }
        }
        guard case .finished(_, let status, let disposition, _) = event else { fatalError() }
        return (status, disposition)
    }


    /// Lets the engine go to sleep on the clock (it has nothing due), then moves the clock. Fails the
    /// test when the engine never sleeps.
    func advance(by duration: Duration, sleepers: Int = 1, sourceLocation: SourceLocation = #_sourceLocation) async {
        let deadline = ContinuousClock.now + .seconds(10)
        while clock.sleeperCount < sleepers {
            guard ContinuousClock.now < deadline else {
                Issue.record("the engine did not sleep on the clock within 10 s (\(clock.sleeperCount) of \(sleepers) sleepers)", sourceLocation: sourceLocation)
                break
            }
            try? await Task.sleep(for: .milliseconds(1))
        }
        clock.advance(by: duration)
    }
}

/// Keeps every log line so tests can check what an administrator would read.
final class LogCapture: LogHandler, @unchecked Sendable {
    // @unchecked: `lines` is only touched under `storage`'s lock; the LogHandler fields are never mutated.
    private let storage = Mutex<[String]>([])
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        storage.withLock { $0.append("\(event.level) \(event.message)") }
    }

    var lines: [String] { storage.withLock { $0 } }

    func contains(_ fragments: String...) -> Bool {
        lines.contains { line in fragments.allSatisfy { line.contains($0) } }
    }
}

/// `Name: value` lines, in order, with a trailing newline.
func callText(_ pairs: KeyValuePairs<String, String>) -> String {
    pairs.map { "\($0.key): \($0.value)\n" }.joined()
}
