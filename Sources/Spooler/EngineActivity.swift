/// A snapshot of what the engine is doing, for systemd's STATUS line and its watchdog: answering this
/// question at all is what proves the engine is not wedged.
public struct EngineActivity: Sendable, Equatable, CustomStringConvertible {
    /// Files waiting for their due time (or for a free slot).
    public var scheduled: Int
    /// Attempts between Originate and their end, adopted calls included.
    public var inFlight: Int

    public init(scheduled: Int, inFlight: Int) {
        self.scheduled = scheduled
        self.inFlight = inFlight
    }

    public var description: String { "\(scheduled) scheduled, \(inFlight) in flight" }
}

/// The limits and calling rules that can change while spoold runs (a configuration reload).
public struct EngineLimits: Sendable, Equatable {
    /// 0 = no limit.
    public var maxConcurrent: Int
    /// 0 = no limit.
    public var maxCallsPerSecond: Double
    public var trunks: [TrunkLimits.Rule]
    /// Calling windows, max_lateness and retry rules per outcome; none by default.
    public var callingRules: CallingRules

    public init(maxConcurrent: Int, maxCallsPerSecond: Double, trunks: [TrunkLimits.Rule], callingRules: CallingRules = CallingRules()) {
        self.maxConcurrent = maxConcurrent
        self.maxCallsPerSecond = maxCallsPerSecond
        self.trunks = trunks
        self.callingRules = callingRules
    }
}
