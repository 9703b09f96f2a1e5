import DequeModule

/// Limits per channel pattern ("trunk"), on top of the global ones: each rule allows at most
/// `maxConcurrent` calls in flight and `maxPerSecond` new calls per second among the calls whose Channel
/// it matches. A call counts against every rule that matches it. Pure; time comes in as arguments.
///
/// A due file whose trunk is at its limit is parked here instead of holding up the files behind it: the
/// engine goes on with the next due file, and takes parked files back, earliest due first, as soon as
/// their trunk has room again.
public struct TrunkLimits: Sendable {
    public struct Rule: Sendable, Equatable {
        public var pattern: ChannelPattern
        /// 0 = no limit.
        public var maxConcurrent: Int
        /// 0 = no limit.
        public var maxPerSecond: Double

        public init(pattern: String, maxConcurrent: Int, maxPerSecond: Double) {
            self.pattern = ChannelPattern(pattern)
            self.maxConcurrent = maxConcurrent
            self.maxPerSecond = maxPerSecond
        }
    }

    public struct Parked: Sendable, Equatable {
        public var name: String
        public var due: SpoolInstant
    }

    public private(set) var rules: [Rule]
    /// Parallel to `rules`.
    private var limiters: [CallLimiter]
    /// Parallel to `rules`: the files waiting for that rule, in due order.
    private var waiting: [Deque<Parked>]
    /// The channel of every call in flight, by file name: what `finish` releases, and what a reload
    /// recounts the new rules from.
    private var holds: [String: String] = [:]

    public init(_ rules: [Rule]) {
        self.rules = rules
        limiters = rules.map { CallLimiter(maxConcurrent: $0.maxConcurrent, maxPerSecond: $0.maxPerSecond) }
        waiting = rules.map { _ in Deque() }
    }

    public var parkedCount: Int { waiting.reduce(0) { $0 + $1.count } }
    public var hasParked: Bool { waiting.contains { !$0.isEmpty } }
    /// Each parked file's due time, for `spoold queue`.
    public var parkedDueTimes: [String: SpoolInstant] {
        var dues: [String: SpoolInstant] = [:]
        for queue in waiting { for parked in queue { dues[parked.name] = parked.due } }
        return dues
    }

    /// Calls in flight that rule `index` counts.
    public func inFlight(rule index: Int) -> Int { limiters[index].inFlight }

    private func matching(_ channel: String) -> [Int] {
        rules.indices.filter { rules[$0].pattern.matches(channel) }
    }

    /// The first rule matching `channel` that does not allow a new call at `now`.
    public func blockingRule(for channel: String, now: SpoolInstant) -> Rule? {
        blockingIndex(for: channel, now: now).map { rules[$0] }
    }

    private func blockingIndex(for channel: String, now: SpoolInstant) -> Int? {
        matching(channel).first { !limiters[$0].canStart(now: now) }
    }

    /// Parks `name` behind the first rule that blocks `channel` and returns that rule; nil (and nothing
    /// parked) when every matching rule allows a call now.
    public mutating func parkIfBlocked(_ name: String, channel: String, due: SpoolInstant, now: SpoolInstant) -> Rule? {
        guard let index = blockingIndex(for: channel, now: now) else { return nil }
        remove(name)
        // Due order within the queue: a file taken back and parked again goes back in its place.
        let position = waiting[index].lastIndex { $0.due <= due }.map { $0 + 1 } ?? 0
        waiting[index].insert(Parked(name: name, due: due), at: position)
        return rules[index]
    }

    /// A new call on `channel` for file `name` at `now`: books a slot in every matching rule.
    public mutating func start(_ name: String, channel: String, now: SpoolInstant) {
        for index in matching(channel) { limiters[index].start(now: now) }
        holds[name] = channel
    }

    /// A call found up after a restart: it holds slots but was not a new call.
    public mutating func adopt(_ name: String, channel: String) {
        for index in matching(channel) { limiters[index].adopt() }
        holds[name] = channel
    }

    /// The call of file `name` ended (or was never placed).
    public mutating func finish(_ name: String) {
        guard let channel = holds.removeValue(forKey: name) else { return }
        for index in matching(channel) { limiters[index].finish() }
    }

    /// The earliest-due parked file whose rule has room at `now`, taken out of its queue. Entries for
    /// which `isStale` is true (the engine has dealt with the file another way) are dropped on the way.
    public mutating func takeReleasable(now: SpoolInstant, dueBy limit: SpoolInstant? = nil, isStale: (String) -> Bool) -> Parked? {
        var best: Int?
        for index in waiting.indices where limiters[index].canStart(now: now) {
            while let head = waiting[index].first, isStale(head.name) { waiting[index].removeFirst() }
            guard let head = waiting[index].first else { continue }
            if let limit, head.due > limit { continue }
            if let current = best, waiting[current].first!.due <= head.due { continue }
            best = index
        }
        guard let best else { return nil }
        return waiting[best].removeFirst()
    }

    /// When a parked file's rule next has room by its rate; nil when nothing is parked or every rule
    /// with parked files waits for a call to end (the engine is woken by that).
    public func nextRelease(now: SpoolInstant) -> SpoolInstant? {
        waiting.indices
            .filter { !waiting[$0].isEmpty && limiters[$0].hasFreeSlot }
            .map { max(now, limiters[$0].nextAllowed(now: now)) }
            .min()
    }

    /// Forgets a parked file (it was removed, or is being handled otherwise).
    public mutating func remove(_ name: String) {
        for index in waiting.indices {
            if let position = waiting[index].firstIndex(where: { $0.name == name }) {
                waiting[index].remove(at: position)
            }
        }
    }

    /// New rules (a reload). A rule whose pattern stays keeps its rate schedule; every rule's in-flight
    /// count is recounted from the calls in flight, so `finish` stays exact. Parked files stay parked
    /// behind a surviving rule; the others are returned for the engine to schedule again.
    public mutating func replaceRules(_ newRules: [Rule]) -> [Parked] {
        var released: [Parked] = []
        var newLimiters: [CallLimiter] = []
        var newWaiting: [Deque<Parked>] = []
        for rule in newRules {
            if let old = rules.firstIndex(where: { $0.pattern == rule.pattern }) {
                var limiter = limiters[old]
                limiter.setLimits(maxConcurrent: rule.maxConcurrent, maxPerSecond: rule.maxPerSecond)
                newLimiters.append(limiter)
                newWaiting.append(waiting[old])
                waiting[old] = Deque()
            } else {
                var limiter = CallLimiter(maxConcurrent: rule.maxConcurrent, maxPerSecond: rule.maxPerSecond)
                for channel in holds.values where rule.pattern.matches(channel) { limiter.adopt() }
                newLimiters.append(limiter)
                newWaiting.append(Deque())
            }
        }
        for queue in waiting { released += queue }
        rules = newRules
        limiters = newLimiters
        waiting = newWaiting
        return released
    }
}
