import AMI
import Spooler

/// One Asterisk that spoold may dial through, with limits of its own (on top of the global ones).
public struct AMIServer: Sendable {
    /// Names the server in logs, metrics and errors (the config file's section name).
    public var name: String
    public var configuration: AMIConfiguration
    /// Its share of the calls when they are spread (`spread`); at least 1. Ignored by `failover`.
    public var weight: Int
    /// At most this many calls in flight on this server; 0 = no limit.
    public var maxConcurrent: Int
    /// At most this many new Originates per second to this server; 0 = no limit.
    public var maxCallsPerSecond: Double

    public init(name: String, configuration: AMIConfiguration, weight: Int = 1, maxConcurrent: Int = 0,
                maxCallsPerSecond: Double = 0) {
        self.name = name
        self.configuration = configuration
        self.weight = weight
        self.maxConcurrent = maxConcurrent
        self.maxCallsPerSecond = maxCallsPerSecond
    }
}

/// How the pool picks the server for the next call among those connected and within their limits.
public enum AMIServerSelection: String, Sendable, CaseIterable {
    /// The first in the listed order: later servers only take calls while earlier ones cannot.
    case failover
    /// By weight (smooth weighted round-robin): with weights 3 and 1, three calls go to the first for
    /// every one to the second, interleaved.
    case spread
}

/// A server list the pool cannot work with; the message names the server and the setting.
public struct AMIServerListError: Error, Equatable, CustomStringConvertible {
    public var description: String

    init(_ description: String) { self.description = description }

    /// Checks what the pool relies on: at least one server, unique names, sane limits.
    static func check(_ servers: [AMIServer]) throws(AMIServerListError) {
        guard !servers.isEmpty else { throw AMIServerListError("no AMI server configured") }
        var seen: Set<String> = []
        for server in servers {
            let name = server.name
            guard !name.isEmpty else { throw AMIServerListError("an AMI server has an empty name") }
            guard seen.insert(name).inserted else {
                throw AMIServerListError("AMI server \"\(name)\" is listed twice; names must be unique")
            }
            guard server.weight >= 1 else {
                throw AMIServerListError("AMI server \"\(name)\": weight must be 1 or more (it is \(server.weight))")
            }
            guard server.maxConcurrent >= 0 else {
                throw AMIServerListError("AMI server \"\(name)\": max_concurrent must be 0 (no limit) or more (it is \(server.maxConcurrent))")
            }
            guard server.maxCallsPerSecond >= 0, server.maxCallsPerSecond.isFinite else {
                throw AMIServerListError("AMI server \"\(name)\": max_cps must be 0 (no limit) or more (it is \(server.maxCallsPerSecond))")
            }
        }
    }
}
