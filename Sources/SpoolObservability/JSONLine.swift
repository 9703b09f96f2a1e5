#if canImport(Glibc)
import Glibc
#endif
import JSONString
import Spooler

/// Builds one JSON object as bytes, fields in the order they are added. Hand-written because it runs once
/// per finished file (up to 10,000 a second) and needs nothing a general encoder offers.
struct JSONObject {
    private(set) var bytes: [UInt8] = [UInt8(ascii: "{")]
    private var empty = true

    init() {}

    mutating func add(_ key: String, _ value: String) {
        addKey(key)
        JSONString.append(value, to: &bytes)
    }

    mutating func add(_ key: String, _ value: String?) {
        guard let value else { return addNull(key) }
        add(key, value)
    }

    mutating func add(_ key: String, _ value: Int) {
        addKey(key)
        bytes += String(value).utf8
    }

    mutating func add(_ key: String, _ value: Int?) {
        guard let value else { return addNull(key) }
        add(key, value)
    }

    mutating func add(_ key: String, objects: [JSONObject]) {
        addKey(key)
        bytes.append(UInt8(ascii: "["))
        for (index, object) in objects.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += object.closed
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func addNull(_ key: String) {
        addKey(key)
        bytes += "null".utf8
    }

    var closed: [UInt8] { bytes + [UInt8(ascii: "}")] }

    private mutating func addKey(_ key: String) {
        if !empty { bytes.append(UInt8(ascii: ",")) }
        empty = false
        JSONString.append(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }
}

extension SpoolInstant {
    /// RFC 3339 in UTC with milliseconds, e.g. `2026-11-22T19:47:29.123Z`: sortable, and read by jq,
    /// Python and every log tool without configuration.
    public var rfc3339: String {
        var seconds = time_t(self.seconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = Int((nanoseconds - self.seconds * 1_000_000_000) / 1_000_000)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))"
            + "T\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2)).\(pad(millis, 3))Z"
    }
}
