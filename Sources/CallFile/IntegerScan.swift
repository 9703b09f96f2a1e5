/// C's `sscanf(value, "%30d", &int)` as glibc does it on a 64-bit system: whitespace skipped, an optional
/// sign, up to 30 characters read; out-of-range values saturate to 64 bits and are then cut to 32 bits.
struct ScannedInteger: Equatable {
    /// What Asterisk ends up with.
    var value: Int
    /// The digits did not fit in 32 bits, so `value` is not what was written.
    var outOfRange: Bool
    /// Text followed the number and was ignored (`2abc` reads as 2).
    var hasTrailingText: Bool

    static let fieldWidth = 30

    static func scan(_ bytes: Bytes) -> ScannedInteger? {
        var index = bytes.startIndex
        while index < bytes.endIndex, bytes[index] == 0x20 || (0x09...0x0D).contains(bytes[index]) {
            index += 1
        }
        let fieldEnd = min(bytes.endIndex, index + fieldWidth)
        var negative = false
        if index < fieldEnd, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        var magnitude: UInt64 = 0
        var saturated = false
        var digits = 0
        while index < fieldEnd, let digit = digitValue(bytes[index]) {
            let (times, overflowA) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = times.addingReportingOverflow(UInt64(digit))
            if overflowA || overflowB { saturated = true } else { magnitude = sum }
            digits += 1
            index += 1
        }
        guard digits > 0 else { return nil }
        let wide: Int64
        if negative {
            wide = saturated || magnitude > UInt64(Int64.max) + 1 ? Int64.min : Int64(truncatingIfNeeded: 0 &- magnitude)
        } else {
            wide = saturated || magnitude > UInt64(Int64.max) ? Int64.max : Int64(magnitude)
        }
        let narrow = Int32(truncatingIfNeeded: wide)
        return ScannedInteger(
            value: Int(narrow),
            outOfRange: Int64(narrow) != wide || saturated,
            hasTrailingText: index < bytes.endIndex
        )
    }

    private static func digitValue(_ byte: UInt8) -> UInt8? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? byte - UInt8(ascii: "0") : nil
    }
}
