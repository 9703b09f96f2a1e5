import Spooler

/// The pool's decisions as a pure value: which server gets the next call, and each server's calls in
/// flight and Originate rate. Time and connection states come in as arguments; no I/O, no locks.
struct ServerPicker: Sendable {
    struct Server: Sendable {
        var weight: Int
        var limiter: CallLimiter
        var connected = false
        /// Smooth weighted round-robin: grows by `weight` each time the server could have been picked,
        /// and drops by the total weight of the candidates when it is.
        var currentWeight = 0
    }

    let selection: AMIServerSelection
    private(set) var servers: [Server]

    init(selection: AMIServerSelection, limits: [(weight: Int, maxConcurrent: Int, maxCallsPerSecond: Double)]) {
        self.selection = selection
        self.servers = limits.map {
            Server(weight: $0.weight, limiter: CallLimiter(maxConcurrent: $0.maxConcurrent, maxPerSecond: $0.maxCallsPerSecond))
        }
    }

    init(selection: AMIServerSelection, servers: [AMIServer]) {
        self.init(selection: selection, limits: servers.map { ($0.weight, $0.maxConcurrent, $0.maxCallsPerSecond) })
    }

    mutating func setConnected(_ index: Int, _ connected: Bool) {
        servers[index].connected = connected
    }

    var anyConnected: Bool { servers.contains { $0.connected } }

    func canTake(_ index: Int, now: SpoolInstant) -> Bool {
        servers[index].connected && servers[index].limiter.canStart(now: now)
    }

    /// When some server can take the next call: `now` if one can at once, else the earliest time a
    /// connected server's rate allows one (if it has a free slot); nil when every connected server is at
    /// its maximum in flight, or none is connected: only a call's end or a login changes that.
    func nextCallAllowed(now: SpoolInstant) -> SpoolInstant? {
        var earliest: SpoolInstant?
        for server in servers where server.connected && server.limiter.hasFreeSlot {
            let allowed = server.limiter.nextAllowed(now: now)
            if allowed <= now { return now }
            earliest = min(earliest ?? allowed, allowed)
        }
        return earliest
    }

    /// Picks the server for a call at `now` and books it (one more in flight, one more Originate for its
    /// rate). Nil when no server can take a call now.
    mutating func pick(now: SpoolInstant) -> Int? {
        let chosen: Int?
        switch selection {
        case .failover:
            chosen = servers.indices.first { canTake($0, now: now) }
        case .spread:
            chosen = pickByWeight(now: now)
        }
        if let chosen { servers[chosen].limiter.start(now: now) }
        return chosen
    }

    /// Only the servers that can take the call now compete; ties go to the one listed first.
    private mutating func pickByWeight(now: SpoolInstant) -> Int? {
        var total = 0
        var best: Int?
        for index in servers.indices where canTake(index, now: now) {
            servers[index].currentWeight += servers[index].weight
            total += servers[index].weight
            if best.map({ servers[index].currentWeight > servers[$0].currentWeight }) ?? true { best = index }
        }
        if let best { servers[best].currentWeight -= total }
        return best
    }

    /// A call on this server is over (or was never sent): its slot is free again.
    mutating func finished(_ index: Int) {
        servers[index].limiter.finish()
    }

    func inFlight(_ index: Int) -> Int { servers[index].limiter.inFlight }
}
