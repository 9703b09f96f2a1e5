#if canImport(Glibc)
import Glibc
#endif
import CallFile
import Logging
import SpoolWatcher
import Synchronization
import Testing
@testable import Spooler

/// An engine on a temporary spool with the manual clock and the simulated PBX. Files are written the way
/// a careful writer does (elsewhere, then renamed in) and announced to the engine as the watcher would.
final class EngineHarness {
    static let t0 = SpoolInstant(seconds: 1_795_364_000)
    static let pid = 2381

    let root: String
    let clock: ManualSpoolClock
    let pbx: SimulatedPBX
    let engine: SpoolEngine
    let log = LogCapture()
    private var events: AsyncStream<[EngineEvent]>.Iterator
    /// Events of a batch already taken from `events`, not yet looked at.
    private var unread: [EngineEvent] = []
    private let eventInput: AsyncStream<[EngineEvent]>.Continuation
    private var running: Task<Void, Never>?

    var outgoing: String { root + "/outgoing" }
    var done: String { root + "/outgoing_done" }

    init(
        root existing: String? = nil,
        pbx sharedPBX: SimulatedPBX? = nil,
        clock sharedClock: ManualSpoolClock? = nil,
        backend: (any CallBackend)? = nil,
        configure: (inout EngineConfiguration) -> Void = { _ in }
    ) throws {
        if let existing {
            root = existing
        } else {
            var template = Array("/tmp/spooler-test-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw SystemError("mkdtemp") }
            root = String(cString: made)
        }
        mkdir(root + "/staging", 0o755)
        clock = sharedClock ?? ManualSpoolClock(now: Self.t0)
        pbx = sharedPBX ?? SimulatedPBX(clock: clock, recordRequests: true)
        var configuration = EngineConfiguration(spoolDirectory: root, maxConcurrent: 0, maxCallsPerSecond: 0,
                                                pid: Self.pid, shutdownGrace: .zero)
        configure(&configuration)
        let (events, eventInput) = AsyncStream.makeStream(of: [EngineEvent].self)
        self.events = events.makeAsyncIterator()
        self.eventInput = eventInput
        let capture = log
        engine = try SpoolEngine(configuration: configuration, backend: backend ?? pbx, clock: clock,
                                 logger: Logger(label: "test") { _ in capture }, events: eventInput)
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

    func changed(_ change: SpoolChange) { engine.apply([change]) }

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

    func names(in directory: String) -> [String] {
        (try? SpoolDirectory(path: directory, create: false).names().sorted()) ?? []
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

    func attemptStarted(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Int {
        let event = try await next("attempt of \(name)", sourceLocation: sourceLocation) {
            if case .attemptStarted(name, _, _) = $0 { true } else { false }
        }
        guard case .attemptStarted(_, let attempt, _) = event else { fatalError() }
        return attempt
    }

    /// Moves the clock. The engine computes every wake-up from the clock when it goes to sleep, so a move
    /// made before it sleeps is seen then: no need to wait for it to be asleep.
    func advance(by duration: Duration) { clock.advance(by: duration) }
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
