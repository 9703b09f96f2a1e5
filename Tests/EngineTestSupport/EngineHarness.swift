#if canImport(Glibc)
import Glibc
#endif
import CallFile
import Logging
import SpoolWatcher
import Synchronization
import TestSupport
import Testing
@testable import Spooler

/// An engine on a temporary spool with the manual clock and the simulated PBX (or a backend given), shared by
/// SpoolerTests and SpoolerAMITests. Files are written the way
/// a careful writer does (elsewhere, then renamed in) and announced to the engine as the watcher would.
public final class EngineHarness {
    public static let t0 = SpoolInstant(seconds: 1_795_364_000)
    public static let pid = 2381

    public let root: String
    public let clock: ManualSpoolClock
    public let pbx: SimulatedPBX
    public let engine: SpoolEngine
    public let log = LogCapture()
    private var events: AsyncStream<[EngineEvent]>.Iterator
    /// Events of a batch already taken from `events`, not yet looked at.
    private var unread: [EngineEvent] = []
    private let eventInput: AsyncStream<[EngineEvent]>.Continuation
    private var running: Task<Void, Never>?

    public var outgoing: String { root + "/outgoing" }
    public var done: String { root + "/outgoing_done" }

    public init(
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
        engine = try SpoolEngine(configuration: configuration, backend: backend ?? pbx, clock: clock,
                                 logger: log.logger, events: eventInput)
    }

    /// Starts the engine and waits for its ready event; `listedByWatcher`: as `SpoolService` does, with the
    /// watcher's first batch (its listing first) already in the inbox.
    public func start(listedByWatcher: Bool = false) async throws {
        let engine = self.engine
        running = Task { await engine.run(listedByWatcher: listedByWatcher) }
        _ = try await next { if case .ready = $0 { true } else { false } }
    }

    public func stop() async {
        running?.cancel()
        await running?.value
        running = nil
    }

    // MARK: Files

    /// Writes `text` to staging, sets its mtime (default: now on the manual clock), renames it into outgoing/.
    public func submit(_ name: String, _ text: String, mtime: SpoolInstant? = nil, announce: Bool = true) throws {
        try submit(name, bytes: Array(text.utf8), mtime: mtime, announce: announce)
    }

    public func submit(_ name: String, bytes: [UInt8], mtime: SpoolInstant? = nil, announce: Bool = true) throws {
        let staged = root + "/staging/" + name
        try Self.write(bytes, to: staged)
        try Self.setMtime(staged, mtime ?? clock.now())
        guard rename(staged, outgoing + "/" + name) == 0 else { throw SystemError("rename") }
        if announce { changed(.appeared(name)) }
    }

    public func changed(_ change: SpoolChange) { engine.apply([change]) }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw SystemError("open \(path)") }
        defer { close(fd) }
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else { throw SystemError("write") }
    }

    public static func setMtime(_ path: String, _ mtime: SpoolInstant) throws {
        var times = [mtime.timespec, mtime.timespec]
        guard utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw SystemError("utimensat") }
    }

    public static func read(_ path: String) -> String? {
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

    public func archived(_ name: String) -> String? { Self.read(done + "/" + name) }
    public func inOutgoing(_ name: String) -> String? { Self.read(outgoing + "/" + name) }

    public func mtime(_ path: String) -> SpoolInstant? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return SpoolInstant(st.st_mtim)
    }

    public func names(in directory: String) -> [String] {
        (try? SpoolDirectory(path: directory, create: false).names().sorted()) ?? []
    }

    // MARK: Events

    /// The next event matching `predicate` (earlier ones are skipped); fails the test after 20 s.
    @discardableResult
    public func next(_ what: String = "event", sourceLocation: SourceLocation = #_sourceLocation, _ predicate: (EngineEvent) -> Bool) async throws -> EngineEvent {
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
        Issue.record("no \(what) within 20 s; log:\n\(log.messages.suffix(20).joined(separator: "\n"))", sourceLocation: sourceLocation)
        throw CancellationError()
    }

    public func finished(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> (CallStatus, EngineEvent.Disposition) {
        let event = try await next("finish of \(name)", sourceLocation: sourceLocation) {
            if case .finished(name, _, _, _) = $0 { true } else { false }
        }
        guard case .finished(_, let status, let disposition, _) = event else { fatalError() }
        return (status, disposition)
    }

    public func attemptStarted(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Int {
        let event = try await next("attempt of \(name)", sourceLocation: sourceLocation) {
            if case .attemptStarted(name, _, _) = $0 { true } else { false }
        }
        guard case .attemptStarted(_, let attempt, _) = event else { fatalError() }
        return attempt
    }

    /// Moves the clock. The engine computes every wake-up from the clock when it goes to sleep, so a move
    /// made before it sleeps is seen then: no need to wait for it to be asleep.
    public func advance(by duration: Duration) { clock.advance(by: duration) }
}

/// `Name: value` lines, in order, with a trailing newline.
public func callText(_ pairs: KeyValuePairs<String, String>) -> String {
    pairs.map { "\($0.key): \($0.value)\n" }.joined()
}
