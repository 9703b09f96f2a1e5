#if canImport(Glibc)
import Glibc
#endif

/// How much longer than usual a test may wait for something to happen, from `SPOOLD_TEST_TIME_SCALE`
/// (default 1). A sanitized build runs 5-15 times slower, the spoold it launches too, so deadlines that
/// are generous for a plain build run out there (`scripts/sanitize` sets the variable).
///
/// It stretches deadlines only: a wait still ends as soon as its condition holds, so a plain run is
/// never slower. It never stretches what a test asserts about time (a lower bound, a window in which
/// something must not happen): those are properties of the code under test, not of the machine.
public enum TestTimeScale {
    /// Read once. Below 1 would shorten deadlines and make plain runs flaky, so it is refused.
    public static let factor: Double = {
        guard let raw = getenv("SPOOLD_TEST_TIME_SCALE").map({ String(cString: $0) }), !raw.isEmpty else { return 1 }
        guard let value = Double(raw), value.isFinite, value >= 1 else {
            fatalError("SPOOLD_TEST_TIME_SCALE must be a number ≥ 1 (how many times longer tests may wait), not '\(raw)'")
        }
        return value
    }()
}

extension Duration {
    /// This duration used as a deadline for a wait: multiplied by `SPOOLD_TEST_TIME_SCALE`.
    public var scaledDeadline: Duration {
        TestTimeScale.factor == 1 ? self : self * TestTimeScale.factor
    }
}

/// The length, in milliseconds, of a simulated call that the test (or the code under test) has to catch
/// in flight and act on before it ends (kill spoold, send a signal, reload, reconnect and ask about it):
/// a deadline for those steps, so it is stretched by `SPOOLD_TEST_TIME_SCALE` like every other one.
public func callLengthForTheTestToAct(milliseconds: Int) -> Int {
    Int((Double(milliseconds) * TestTimeScale.factor).rounded())
}
