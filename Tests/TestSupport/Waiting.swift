/// A wait on something the test does not drive itself (another process, the file system, a server, a
/// task) ran out of time. It names what was awaited, and whatever the caller adds (a log tail).
public struct TimedOut: Error, CustomStringConvertible {
    public let what: String
    public let after: Duration
    public var details: String

    public init(what: String, after: Duration, details: String = "") {
        self.what = what
        self.after = after
        self.details = details
    }

    public var description: String {
        "timed out after \(after) waiting for: \(what)" + (details.isEmpty ? "" : "\n\(details)")
    }
}

/// Polls `condition` until it holds; throws `TimedOut` naming `what` when `timeout` (stretched by
/// `SPOOLD_TEST_TIME_SCALE`) runs out. This waits for someone else to act; it is never a sleep that orders
/// work inside the test. `details` is evaluated only on a timeout.
public func waitUntil(
    _ what: String,
    timeout: Duration = .seconds(20),
    every interval: Duration = .milliseconds(20),
    details: () -> String = { "" },
    _ condition: () throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let timeout = timeout.scaledDeadline
    let deadline = clock.now.advanced(by: timeout)
    while true {
        if try condition() { return }
        if clock.now >= deadline { throw TimedOut(what: what, after: timeout, details: details()) }
        try await Task.sleep(for: interval)
    }
}

/// `waitUntil` for a condition that has to be awaited (a query to an in-process server or actor).
public func waitUntilAsync(
    _ what: String,
    timeout: Duration = .seconds(20),
    every interval: Duration = .milliseconds(20),
    details: () -> String = { "" },
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let timeout = timeout.scaledDeadline
    let deadline = clock.now.advanced(by: timeout)
    while true {
        if try await condition() { return }
        if clock.now >= deadline { throw TimedOut(what: what, after: timeout, details: details()) }
        try await Task.sleep(for: interval)
    }
}

/// Polls for `duration` and returns false as soon as `condition` stops holding: "this does not happen for a
/// while". Samples are only taken inside the window, so a test starved of CPU misses samples rather than
/// checking after the window has closed. The window is what the test asserts, so it is never scaled.
public func holdsThroughout(
    _ duration: Duration,
    every interval: Duration = .milliseconds(50),
    _ condition: () throws -> Bool
) async throws -> Bool {
    let clock = ContinuousClock()
    let end = clock.now.advanced(by: duration)
    repeat {
        if try !condition() { return false }
        try await Task.sleep(for: interval)
    } while clock.now < end
    return true
}
