#if canImport(Glibc)
import Glibc
#endif

/// A small seeded generator (SplitMix64), so that "random" test input is the same on every run and a
/// failure reproduces from its seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The seed of a randomized test: `SPOOLD_TEST_SEED` (decimal or 0x-hex) when set, so a failing run can
/// be repeated exactly; otherwise a fresh one. Either way the test prints it with its failures.
public enum TestSeed {
    /// `SPOOLD_TEST_SEED`, or nil when unset. A value that is not a number stops the run: a typo must not
    /// silently test another seed than the one asked for.
    public static let fromEnvironment: UInt64? = {
        guard let raw = getenv("SPOOLD_TEST_SEED").map({ String(cString: $0) }), !raw.isEmpty else { return nil }
        let parsed = raw.lowercased().hasPrefix("0x") ? UInt64(raw.dropFirst(2), radix: 16) : UInt64(raw)
        guard let parsed else { fatalError("SPOOLD_TEST_SEED must be a decimal or 0x-hex UInt64, not '\(raw)'") }
        return parsed
    }()

    /// `SPOOLD_TEST_SEED`, or a new random seed.
    public static func make() -> UInt64 {
        fromEnvironment ?? UInt64.random(in: .min ... .max)
    }
}
