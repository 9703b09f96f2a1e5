/// The global limits on new calls: at most `maxConcurrent` attempts in flight (from Originate until the
/// attempt ends) and at most `maxPerSecond` Originates per second. Pure; time comes in as arguments.
///
/// The rate uses a virtual-schedule (GCRA) bucket: each Originate books the next slot 1/R later, and a
/// caller that arrives up to one interval late still gets its slot, so a wake-up that overshoots a little
/// does not lower the rate, while no window of a second sees more than R+1 Originates.
public struct CallLimiter: Sendable {
    public private(set) var maxConcurrent: Int
    public private(set) var maxPerSecond: Double
    public private(set) var inFlight = 0
    private var nextSlot: SpoolInstant?

    /// 0 (or less) means no limit for either value.
    public init(maxConcurrent: Int, maxPerSecond: Double) {
        self.maxConcurrent = maxConcurrent
        self.maxPerSecond = maxPerSecond
    }

    /// New limits (a configuration reload). Calls in flight keep their slots; the rate goes on from the
    /// last booked Originate, spaced by the new interval, so a change never allows a burst.
    public mutating func setLimits(maxConcurrent: Int, maxPerSecond: Double) {
        var lastBooked: SpoolInstant?
        if let nextSlot, let interval { lastBooked = SpoolInstant(nanoseconds: nextSlot.nanoseconds - interval) }
        self.maxConcurrent = maxConcurrent
        self.maxPerSecond = maxPerSecond
        if let lastBooked, let interval {
            nextSlot = SpoolInstant(nanoseconds: lastBooked.nanoseconds + interval)
        } else {
            nextSlot = nil
        }
    }

    private var interval: Int64? {
        maxPerSecond > 0 ? Int64((1_000_000_000 / maxPerSecond).rounded()) : nil
    }

    public var hasFreeSlot: Bool { maxConcurrent <= 0 || inFlight < maxConcurrent }

    /// When the rate next allows an Originate; `now` or earlier means at once.
    public func nextAllowed(now: SpoolInstant) -> SpoolInstant {
        guard let interval, let nextSlot else { return now }
        return SpoolInstant(nanoseconds: nextSlot.nanoseconds - interval)
    }

    public func canStart(now: SpoolInstant) -> Bool { hasFreeSlot && nextAllowed(now: now) <= now }

    /// Books an Originate at `now`. Call only after `canStart` said yes.
    public mutating func start(now: SpoolInstant) {
        inFlight += 1
        guard let interval else { return }
        nextSlot = SpoolInstant(nanoseconds: max(nextSlot ?? now, now).nanoseconds + interval)
    }

    /// A call found up after a restart: it holds a slot but was not a new Originate.
    public mutating func adopt() {
        inFlight += 1
    }

    /// An attempt ended, or an Originate turned out never to have been sent.
    public mutating func finish() {
        inFlight = max(0, inFlight - 1)
    }
}
