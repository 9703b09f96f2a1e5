/// JSON string literals (RFC 8259), written by hand where a line is built per log entry or finished file
/// and an encoder would cost more than the line. One implementation for the check report, the JSON log
/// format and the result log, so that all three escape alike.
public enum JSONString {
    /// Appends `text` as a JSON string literal: quote, backslash and every control character (DEL too)
    /// escaped, and U+2028/U+2029, which some JavaScript parsers take for line ends; the rest as UTF-8.
    public static func append(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x22: bytes += #"\""#.utf8
            case 0x5C: bytes += #"\\"#.utf8
            case 0x0A: bytes += #"\n"#.utf8
            case 0x0D: bytes += #"\r"#.utf8
            case 0x09: bytes += #"\t"#.utf8
            case 0..<0x20, 0x7F, 0x2028, 0x2029:
                let hex = Array("0123456789abcdef".utf8)
                let value = Int(scalar.value)
                bytes += #"\u"#.utf8
                for shift in [12, 8, 4, 0] { bytes.append(hex[(value >> shift) & 0xF]) }
            case 0..<0x80:
                bytes.append(UInt8(scalar.value))
            default:
                bytes += String(scalar).utf8
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// `append` as a String.
    public static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 2)
        append(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
