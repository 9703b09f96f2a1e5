/// Delays between reconnect attempts: doubling from the initial delay up to the cap, each drawn at
/// random from its upper half so that many clients restarted together do not reconnect in step.
public struct ReconnectBackoff: Sendable {
    public let initialDelay: Duration
    public let maximumDelay: Duration
    private(set) var failures = 0

    public init(initialDelay: Duration, maximumDelay: Duration) {
        self.initialDelay = initialDelay
        self.maximumDelay = max(initialDelay, maximumDelay)
    }

    /// The delay before the next attempt; each call counts one more failure.
    public mutating func nextDelay<R: RandomNumberGenerator>(using generator: inout R) -> Duration {
        let ceiling = ceilingForNextAttempt
        failures += 1
        let ceilingNanoseconds = max(Self.nanoseconds(ceiling), 2)
        let nanoseconds = Int64.random(in: (ceilingNanoseconds / 2)...ceilingNanoseconds, using: &generator)
        return .nanoseconds(nanoseconds)
    }

    public mutating func nextDelay() -> Duration {
        var generator = SystemRandomNumberGenerator()
        return nextDelay(using: &generator)
    }

    /// After a connection that got logged in, start again from the initial delay.
    public mutating func reset() {
        failures = 0
    }

    var ceilingForNextAttempt: Duration {
        // Doubling stops at the cap; the exponent is bounded so the multiplication cannot overflow.
        var ceiling = initialDelay
        for _ in 0..<min(failures, 62) {
            ceiling = ceiling * 2
            if ceiling >= maximumDelay { return maximumDelay }
        }
        return min(ceiling, maximumDelay)
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
