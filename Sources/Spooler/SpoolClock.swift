#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A wall-clock instant with nanosecond precision, as file mtimes carry it.
public struct SpoolInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Nanoseconds since the Unix epoch.
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    public init(seconds: Int64, nanoseconds: Int64 = 0) { self.nanoseconds = seconds * 1_000_000_000 + nanoseconds }
    init(_ ts: timespec) { self.init(seconds: Int64(ts.tv_sec), nanoseconds: Int64(ts.tv_nsec)) }

    /// Whole epoch seconds, rounded down (what retry records show).
    public var seconds: Int64 { nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds - 999_999_999) / 1_000_000_000 }

    public func adding(seconds: Int) -> SpoolInstant { SpoolInstant(nanoseconds: nanoseconds + Int64(seconds) * 1_000_000_000) }
    public func adding(_ duration: Duration) -> SpoolInstant {
        let (s, atto) = duration.components
        return SpoolInstant(nanoseconds: nanoseconds + s * 1_000_000_000 + atto / 1_000_000_000)
    }
    public func duration(since other: SpoolInstant) -> Duration { .nanoseconds(nanoseconds - other.nanoseconds) }

    var timespec: timespec {
        let s = seconds
        return Glibc.timespec(tv_sec: Int(s), tv_nsec: Int(nanoseconds - s * 1_000_000_000))
    }

    public static func < (lhs: SpoolInstant, rhs: SpoolInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// `HH:MM:SS` in UTC, for log lines an administrator reads.
    public var timeOfDay: String {
        let daySeconds = ((seconds % 86_400) + 86_400) % 86_400
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(two(daySeconds / 3600)):\(two(daySeconds / 60 % 60)):\(two(daySeconds % 60))"
    }

    public var description: String { "\(seconds).\(String(nanoseconds - seconds * 1_000_000_000).leftPadded(to: 9))" }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// Where the engine reads wall-clock time and waits for it. Due times are file mtimes, so this is the
/// realtime clock; tests inject `ManualSpoolClock` so scheduling is checked without sleeping.
public protocol SpoolClock: Sendable {
    func now() -> SpoolInstant
    /// Returns once `now() >= deadline`; throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: SpoolInstant) async throws
}

public struct SystemSpoolClock: SpoolClock {
    public init() {}

    public func now() -> SpoolInstant {
        var ts = Glibc.timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return SpoolInstant(ts)
    }

    public func sleep(until deadline: SpoolInstant) async throws {
        // Re-read the wall clock after each sleep: it may have been stepped meanwhile.
        while true {
            let remaining = deadline.nanoseconds - now().nanoseconds
            if remaining <= 0 { return }
            try await Task.sleep(for: .nanoseconds(min(remaining, 1_000_000_000)))
        }
    }
}

/// A clock that moves only when a test calls `advance`. Sleepers wake in deadline order.
public final class ManualSpoolClock: SpoolClock {
    private struct Sleeper {
        var id: UInt64
        var deadline: SpoolInstant
        var continuation: CheckedContinuation<Void, any Error>
    }
    private struct State {
        var now: SpoolInstant
        var nextID: UInt64 = 0
        var sleepers: [Sleeper] = []
    }
    private let state: Mutex<State>

    public init(now: SpoolInstant) { state = Mutex(State(now: now)) }

    public func now() -> SpoolInstant { state.withLock { $0.now } }

    /// How many tasks are asleep on this clock; tests wait for the engine to settle with it.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func advance(by duration: Duration) { advance(to: now().adding(duration)) }

    public func advance(to instant: SpoolInstant) {
        let woken: [Sleeper] = state.withLock { state in
            if instant > state.now { state.now = instant }
            let due = state.sleepers.filter { $0.deadline <= state.now }
            state.sleepers.removeAll { $0.deadline <= state.now }
            return due.sorted { $0.deadline < $1.deadline }
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }

    public func sleep(until deadline: SpoolInstant) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: (any Error)?? = state.withLock { state in
                    if Task.isCancelled { return .some(CancellationError()) }
                    if deadline <= state.now { return .some(nil) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return .none
                }
                switch resumeNow {
                case .some(.some(let error)): continuation.resume(throwing: error)
                case .some(.none): continuation.resume()
                case .none: break
                }
            }
        } onCancel: {
            let sleeper: Sleeper? = state.withLock { state in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }
}
