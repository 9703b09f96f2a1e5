import Foundation
import TestSupport

/// A wait on something outside the test process (a spoold child, the file system) ran out of time.
struct TimedOut: Error, CustomStringConvertible {
    let what: String
    let after: Duration
    var details: String = ""

    var description: String {
        "timed out after \(after) waiting for: \(what)" + (details.isEmpty ? "" : "\n\(details)")
    }
}

/// Polls `condition` until it holds. This waits for another process to act; it is not a sleep that
/// orders work inside this process. `timeout` is stretched by `SPOOLD_TEST_TIME_SCALE` (slow builds).
func waitUntil(
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

/// Polls for `duration` and returns false as soon as `condition` stops holding: "this does not happen for a
/// while". Samples are only taken inside the window, so a test starved of CPU misses samples rather than
/// checking after the window has closed. The window is what the test asserts, so it is never scaled.
func holdsThroughout(
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

/// `waitUntil` for a condition that has to be awaited (a query to an in-process server).
func waitUntilAsync(
    _ what: String,
    timeout: Duration = .seconds(20),
    every interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let timeout = timeout.scaledDeadline
    let deadline = clock.now.advanced(by: timeout)
    while true {
        if try await condition() { return }
        if clock.now >= deadline { throw TimedOut(what: what, after: timeout) }
        try await Task.sleep(for: interval)
    }
}
