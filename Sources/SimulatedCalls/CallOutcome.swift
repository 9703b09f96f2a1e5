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

    private static let kinds = Kind.allCases

    /// Walks the `/`-separated fields in place, without the arrays a split makes: the simulate backend reads
    /// one per call. An absent field reads as an empty one, which is what a split would have given for the
    /// values below (an empty field is no number either).
    public init(channel: String) {
        kind = nil
        ringMilliseconds = nil
        talkMilliseconds = 0
        // In ASCII every `/` byte is a Character of its own, so the bytes are searched (a Character search
        // costs about a thousand instructions); other text is searched by Character, as a split does. A `/`
        // found either way is one byte long.
        let ascii = channel.utf8.allSatisfy { $0 < 0x80 }
        func slash(in text: Substring) -> String.Index? {
            ascii ? text.utf8.firstIndex(of: UInt8(ascii: "/")) : text.firstIndex(of: "/")
        }
        guard let first = slash(in: channel[...]) else { return }
        var rest = channel[channel.utf8.index(after: first)...]
        func nextField() -> Substring {
            guard let end = slash(in: rest) else {
                defer { rest = rest[rest.endIndex...] }
                return rest
            }
            defer { rest = rest[rest.utf8.index(after: end)...] }
            return rest[..<end]
        }
        let word = nextField()
        // The outcome words are ASCII with no other canonically equal spelling, so equal bytes are what
        // `Kind(rawValue: String(word))` would accept.
        guard let kind = Self.kinds.first(where: { $0.rawValue.utf8.elementsEqual(word.utf8) }) else { return }
        self.kind = kind
        ringMilliseconds = Int(nextField()).map { max($0, 0) }
        talkMilliseconds = max(Int(nextField()) ?? 0, 0)
    }
}
