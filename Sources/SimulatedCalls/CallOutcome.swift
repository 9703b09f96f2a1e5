/// What a dialled channel does, chosen by its name: `<Tech>/<outcome>[/<ring-ms>[/<talk-ms>]]`.
/// The same convention drives spoold's `simulate` backend.
public struct CallOutcome: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        case answer, busy, congestion, noanswer, failure
    }

    /// nil: any other resource, which answers at once and hangs up at once.
    public var kind: Kind?
    public var ringMilliseconds: Int?
    public var talkMilliseconds: Int

    /// The OriginateResponse `Reason` (reference §6).
    public var reason: Int {
        switch kind {
        case .answer, nil: return 4
        case .busy: return 5
        case .congestion: return 8
        case .noanswer: return 3
        case .failure: return 0
        }
    }

    public var answers: Bool { reason == 4 }

    /// Milliseconds until the OriginateResponse. `noanswer` waits the originate Timeout, capped by
    /// ring-ms when one is given.
    public func responseDelayMilliseconds(originateTimeout: Int) -> Int {
        if kind == .noanswer {
            guard let ring = ringMilliseconds else { return max(originateTimeout, 0) }
            return originateTimeout > 0 ? min(ring, originateTimeout) : ring
        }
        return ringMilliseconds ?? 0
    }

    public init(channel: String) {
        let resource = channel.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).dropFirst().first ?? ""
        let parts = resource.split(separator: "/", omittingEmptySubsequences: false)
        guard let first = parts.first, let kind = Kind(rawValue: String(first)) else {
            self.kind = nil
            self.ringMilliseconds = nil
            self.talkMilliseconds = 0
            return
        }
        self.kind = kind
        self.ringMilliseconds = parts.count > 1 ? Int(parts[1]).map { max($0, 0) } : nil
        self.talkMilliseconds = parts.count > 2 ? max(Int(parts[2]) ?? 0, 0) : 0
    }
}
