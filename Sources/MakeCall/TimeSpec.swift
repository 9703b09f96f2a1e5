import CallFile
/// The `--at` and `--in` notations, parsed without a clock so they can be tested on fixed values.
public enum TimeSpec {
    /// `--at`: epoch seconds (`1795400000`) or ISO 8601 with a zone
    /// (`2026-11-23T07:30:00Z`, `2026-11-23T08:30+01:00`, seconds optional, `T` or a space).
    public static func epoch(fromAt text: String) throws(MakeCallError) -> Int64 {
        let bytes = Array(text.utf8)
        if !bytes.isEmpty, bytes.allSatisfy(isDigit) {
            guard bytes.count <= 12, let value = Int64(text) else {
                throw MakeCallError(flag: "--at", reason: "'\(text)' is not a plausible epoch time")
            }
            return value
        }
        guard let epoch = iso8601(bytes) else {
            throw MakeCallError(
                flag: "--at",
                reason: "'\(text)' is neither epoch seconds nor ISO 8601 with a zone, e.g. 2026-11-23T07:30:00Z")
        }
        return epoch
    }

    /// `--in`: one or more `<number><unit>` groups, unit `s`, `m`, `h` or `d` (`90s`, `5m`, `1h30m`).
    public static func seconds(fromIn text: String) throws(MakeCallError) -> Int64 {
        let error = MakeCallError(flag: "--in", reason: "'\(text)' is not a duration like 90s, 5m, 2h or 1h30m")
        var total: Int64 = 0
        var number: Int64?
        for byte in text.utf8 {
            if isDigit(byte) {
                let (times, overflowA) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (sum, overflowB) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                guard !overflowA, !overflowB else { throw error }
                number = sum
                continue
            }
            guard let value = number, let unit = unitSeconds(byte) else { throw error }
            let (part, overflowA) = value.multipliedReportingOverflow(by: unit)
            let (sum, overflowB) = total.addingReportingOverflow(part)
            guard !overflowA, !overflowB else { throw error }
            total = sum
            number = nil
        }
        guard number == nil, !text.isEmpty else { throw error }
        return total
    }

    private static func unitSeconds(_ byte: UInt8) -> Int64? {
        switch byte {
        case UInt8(ascii: "s"): 1
        case UInt8(ascii: "m"): 60
        case UInt8(ascii: "h"): 3600
        case UInt8(ascii: "d"): 86400
        default: nil
        }
    }

    private static func iso8601(_ bytes: [UInt8]) -> Int64? {
        var reader = Reader(bytes: bytes)
        guard let year = reader.number(digits: 4), reader.skip("-"),
            let month = reader.number(digits: 2), reader.skip("-"),
            let day = reader.number(digits: 2), reader.skip("T") || reader.skip("t") || reader.skip(" "),
            let hour = reader.number(digits: 2), reader.skip(":"),
            let minute = reader.number(digits: 2)
        else { return nil }
        var second: Int64 = 0
        if reader.skip(":") {
            guard let value = reader.number(digits: 2) else { return nil }
            second = value
        }
        let offset: Int64
        if reader.skip("Z") || reader.skip("z") {
            offset = 0
        } else if let sign: Int64 = reader.skip("+") ? 1 : (reader.skip("-") ? -1 : nil) {
            guard let hours = reader.number(digits: 2) else { return nil }
            _ = reader.skip(":")
            guard let minutes = reader.number(digits: 2), hours <= 23, minutes <= 59 else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard reader.atEnd, (1...12).contains(month), (1...CivilDate.daysIn(month: month, year: year)).contains(day),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }
        return CivilDate(year: year, month: month, day: day).daysSinceEpoch * 86400 + hour * 3600 + minute * 60 + second - offset
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        var atEnd: Bool { index == bytes.count }

        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        mutating func number(digits: Int) -> Int64? {
            guard index + digits <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<(index + digits)] {
                guard TimeSpec.isDigit(byte) else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            index += digits
            return value
        }
    }
}
