import Logging

/// JSON text for log values, written by hand so that a log line costs no encoder and the key order is
/// fixed (sorted), which keeps lines comparable.
enum JSONText {
    /// A JSON string literal: quote, backslash and every control character escaped, the rest as UTF-8.
    static func string(_ text: String) -> String {
        var out = "\""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\u{2028}" || scalar == "\u{2029}":
                // Other controls (and the two separators some JavaScript parsers choke on) as \uXXXX.
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func object(_ metadata: Logger.Metadata) -> String {
        "{" + metadata.sorted { $0.key < $1.key }.map { string($0.key) + ":" + value($0.value) }.joined(separator: ",")
            + "}"
    }

    /// Strings and string-convertible values (a redacted secret among them) become JSON strings, by
    /// their description, exactly as the plain format shows them.
    static func value(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): return string(text)
        case .stringConvertible(let convertible): return string(convertible.description)
        case .array(let values): return "[" + values.map(Self.value).joined(separator: ",") + "]"
        case .dictionary(let metadata): return object(metadata)
        }
    }
}
