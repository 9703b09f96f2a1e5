import JSONString
import Logging

/// JSON text for log values, written by hand so that a log line costs no encoder and the key order is
/// fixed (sorted), which keeps lines comparable.
enum JSONText {
    static func object(_ metadata: Logger.Metadata) -> String {
        "{" + metadata.sorted { $0.key < $1.key }.map { JSONString.quoted($0.key) + ":" + value($0.value) }.joined(separator: ",")
            + "}"
    }

    /// Strings and string-convertible values (a redacted secret among them) become JSON strings, by
    /// their description, exactly as the plain format shows them.
    static func value(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): return JSONString.quoted(text)
        case .stringConvertible(let convertible): return JSONString.quoted(convertible.description)
        case .array(let values): return "[" + values.map(Self.value).joined(separator: ",") + "]"
        case .dictionary(let metadata): return object(metadata)
        }
    }
}
