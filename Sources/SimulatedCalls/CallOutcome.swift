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
        // An ASCII channel (every one the benchmarks and the tests dial) is read as bytes: Substring
        // indexing cost about 3,000 instructions per call on the engine's loop.
        if let read = channel.utf8.withContiguousStorageIfAvailable(Self.readASCII), let read {
            self = read
            return
        }
        self.init(byCharacters: channel)
    }

    /// `init(channel:)` over Characters; for ASCII the same as `readASCII` (tests compare the two).
    init(byCharacters channel: String) {
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

    private init(kind: Kind?, ringMilliseconds: Int?, talkMilliseconds: Int) {
        (self.kind, self.ringMilliseconds, self.talkMilliseconds) = (kind, ringMilliseconds, talkMilliseconds)
    }

    private static let kindBytes: [(bytes: [UInt8], kind: Kind)] = kinds.map { (Array($0.rawValue.utf8), $0) }

    /// The fields of an ASCII channel, split at `/` bytes as `init(byCharacters:)` splits them; nil when
    /// `bytes` are not all ASCII (then a `/` may belong to a Character with a combining mark).
    static func readASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> CallOutcome? {
        let slash = UInt8(ascii: "/")
        guard !bytes.contains(where: { $0 >= 0x80 }) else { return nil }
        let instant = CallOutcome(kind: nil, ringMilliseconds: nil, talkMilliseconds: 0)
        guard var start = bytes.firstIndex(of: slash).map({ $0 + 1 }) else { return instant }
        // An absent field reads as an empty one, as in `init(byCharacters:)`.
        func nextField() -> UnsafeBufferPointer<UInt8> {
            guard start <= bytes.count else { return UnsafeBufferPointer(rebasing: bytes[bytes.count...]) }
            let end = bytes[start...].firstIndex(of: slash) ?? bytes.count
            defer { start = end + 1 }
            return UnsafeBufferPointer(rebasing: bytes[start..<end])
        }
        let word = nextField()
        guard let kind = kindBytes.first(where: { $0.bytes.elementsEqual(word) })?.kind else { return instant }
        let ring = decimal(nextField()).map { max($0, 0) }
        return CallOutcome(kind: kind, ringMilliseconds: ring, talkMilliseconds: max(decimal(nextField()) ?? 0, 0))
    }

    /// What `Int(_:)` reads from ASCII text: an optional sign, then one or more digits; nil on anything
    /// else or on overflow.
    static func decimal(_ text: UnsafeBufferPointer<UInt8>) -> Int? {
        var digits = text[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative || digits.first == UInt8(ascii: "+") { digits = digits.dropFirst() }
        guard !digits.isEmpty else { return nil }
        var value = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let digit = Int(byte - UInt8(ascii: "0"))
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflowA, !overflowB else { return nil }
            value = next
        }
        return value
    }
}
