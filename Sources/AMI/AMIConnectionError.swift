/// Why a connection attempt failed or an established connection ended.
public enum AMIConnectionError: Error, Sendable, Equatable, CustomStringConvertible {
    case refused(String)
    case timeout(String)
    case authenticationFailed(String)
    case tls(String)
    /// The first line was not `Asterisk Call Manager/…`.
    case notAnAMIServer(String)
    case protocolError(String)
    /// A keepalive `Ping` got no answer in time.
    case keepaliveTimeout
    case closedByServer
    case notConnected
    /// The client's `run` ended (cancelled, or a single connection finished).
    case stopped
    case other(String)

    public var description: String {
        switch self {
        case .refused(let detail): return "connection refused (\(detail))"
        case .timeout(let what): return "timeout: \(what)"
        case .authenticationFailed(let message): return "authentication failed: \(message)"
        case .tls(let detail): return "TLS error: \(detail)"
        case .notAnAMIServer(let banner): return "not an AMI server (first line \(banner.debugDescription))"
        case .protocolError(let detail): return "AMI protocol error: \(detail)"
        case .keepaliveTimeout: return "timeout: keepalive Ping got no answer"
        case .closedByServer: return "connection closed by the server"
        case .notConnected: return "not connected to AMI"
        case .stopped: return "AMI client stopped"
        case .other(let detail): return detail
        }
    }
}

/// A single action's failure (`ping`, `channelExists`).
public enum AMIActionError: Error, Sendable, Equatable, CustomStringConvertible {
    case notConnected
    case connectionLost
    case responseTimeout
    case error(String)
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .notConnected: return "not connected to AMI"
        case .connectionLost: return "AMI connection lost before the response"
        case .responseTimeout: return "no AMI response in time"
        case .error(let message): return "AMI error: \(message)"
        case .invalidRequest(let detail): return "invalid AMI request: \(detail)"
        }
    }
}
