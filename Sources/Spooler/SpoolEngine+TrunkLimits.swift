import CallFile

/// The engine's side of the per-trunk limits and of changing limits while it runs (SIGHUP).
extension SpoolEngine {
    /// The next file to handle at `now`: the earliest due of the scheduled files and of the files parked
    /// behind a trunk that has room again. Nil when neither has one.
    func takeDue(now: SpoolInstant) -> String? {
        let scheduledDue = scheduler.nextDue().flatMap { $0 <= now ? $0 : nil }
        if trunks.hasParked {
            // A parked entry is stale once the file is in flight or was rescheduled by a touch.
            let parked = trunks.takeReleasable(now: now, dueBy: scheduledDue) { [self] name in
                isBusy(name) || scheduler.contains(name)
            }
            if let parked { return parked.name }
        }
        return scheduledDue == nil ? nil : scheduler.popDue(now: now)
    }

    /// Parks a due file whose trunk is at its limit, so that due files of other trunks go on. Returns
    /// true when it was parked (no record written, nothing counted).
    func parkIfTrunkFull(_ name: String, file: CallFile, due: SpoolInstant, now: SpoolInstant) -> Bool {
        guard let channel = file.channel?.description,
              let rule = trunks.parkIfBlocked(name, channel: channel, due: due, now: now) else { return false }
        logger.debug("[\(name)] due, but the limit for \(rule.pattern) is reached (\(Self.describeLimits(rule.maxConcurrent, rule.maxPerSecond))); it waits for that trunk while other calls go on")
        return true
    }

    /// When a parked file can next go, as far as the engine's loop should wake for it. A call that ends
    /// rings the doorbell, so a rule waiting for a free slot needs no wake-up time.
    func trunkWake(now: SpoolInstant) -> SpoolInstant? {
        guard trunks.hasParked else { return nil }
        guard backend.isReady else { return now.adding(configuration.backendRetryDelay) }
        guard limiter.hasFreeSlot, let release = trunks.nextRelease(now: now) else { return nil }
        return max(release, limiter.nextAllowed(now: now))
    }

    func earliest(_ a: SpoolInstant?, _ b: SpoolInstant?) -> SpoolInstant? {
        guard let a else { return b }
        guard let b else { return a }
        return min(a, b)
    }

    /// The limits in force now (they start as the configuration's and change with `applyLimits`).
    public var limits: EngineLimits {
        EngineLimits(maxConcurrent: limiter.maxConcurrent, maxCallsPerSecond: limiter.maxPerSecond, trunks: trunks.rules)
    }

    /// Changes the global and per-trunk limits of the running engine. Calls in flight go on and keep
    /// their slots; a lower limit only holds back new calls until enough of them have ended.
    public func applyLimits(_ limits: EngineLimits) {
        limiter.setLimits(maxConcurrent: limits.maxConcurrent, maxPerSecond: limits.maxCallsPerSecond)
        for parked in trunks.replaceRules(limits.trunks) where !isBusy(parked.name) && !scheduler.contains(parked.name) {
            scheduler.upsert(parked.name, due: parked.due)
        }
        let trunkText = limits.trunks.isEmpty ? "no per-trunk limits"
            : limits.trunks.map { "\($0.pattern): \(Self.describeLimits($0.maxConcurrent, $0.maxPerSecond))" }.joined(separator: "; ")
        logger.notice("limits now: \(Self.describeLimits(limits.maxConcurrent, limits.maxCallsPerSecond)) globally; \(trunkText)")
        doorbell.ring()
    }

    static func describeLimits(_ maxConcurrent: Int, _ maxPerSecond: Double) -> String {
        let concurrent = maxConcurrent > 0 ? "max \(maxConcurrent) in flight" : "no limit in flight"
        let rate = maxPerSecond <= 0 ? "no limit per second"
            : "max \(maxPerSecond == maxPerSecond.rounded() ? String(Int(maxPerSecond)) : String(maxPerSecond)) per second"
        return concurrent + ", " + rate
    }
}

/// The limits that can change while spoold runs (a configuration reload).
public struct EngineLimits: Sendable, Equatable {
    /// 0 = no limit.
    public var maxConcurrent: Int
    /// 0 = no limit.
    public var maxCallsPerSecond: Double
    public var trunks: [TrunkLimits.Rule]

    public init(maxConcurrent: Int, maxCallsPerSecond: Double, trunks: [TrunkLimits.Rule]) {
        self.maxConcurrent = maxConcurrent
        self.maxCallsPerSecond = maxCallsPerSecond
        self.trunks = trunks
    }
}
