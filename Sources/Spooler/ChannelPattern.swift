/// A glob on a call's Channel (`PJSIP/*@trunk-a`, `SIP/gw?/*`): `*` matches any run of characters
/// (`/` and `@` included), `?` exactly one; every other character matches itself, case-sensitively.
public struct ChannelPattern: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    private let scalars: [Unicode.Scalar]

    public init(_ text: String) {
        self.text = text
        scalars = Array(text.unicodeScalars)
    }

    public var description: String { text }

    /// Iterative glob matching with one backtrack point (the last `*`): linear for patterns with one
    /// star, never exponential.
    public func matches(_ channel: String) -> Bool {
        let input = Array(channel.unicodeScalars)
        var p = 0, i = 0
        var star: Int?
        var starInput = 0
        while i < input.count {
            if p < scalars.count, scalars[p] == "?" || scalars[p] == input[i] {
                p += 1
                i += 1
            } else if p < scalars.count, scalars[p] == "*" {
                star = p
                starInput = i
                p += 1
            } else if let star {
                p = star + 1
                starInput += 1
                i = starInput
            } else {
                return false
            }
        }
        while p < scalars.count, scalars[p] == "*" { p += 1 }
        return p == scalars.count
    }
}
