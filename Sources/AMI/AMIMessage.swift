/// One `Name: value` line of an AMI message, exactly as it appeared (order and case kept).
public struct AMIHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// An AMI action, response or event: its headers in wire order. Repeated headers are kept because
/// `Variable` (and `ChanVariable`) legitimately repeat.
public struct AMIMessage: Sendable, Equatable {
    public var headers: [AMIHeader]

    public init(headers: [AMIHeader] = []) {
        self.headers = headers
    }

    public init(_ pairs: KeyValuePairs<String, String>) {
        self.headers = pairs.map { AMIHeader(name: $0.key, value: $0.value) }
    }

    /// The first header of that name, compared case-insensitively as Asterisk does; Asterisk itself
    /// honours the first occurrence of a repeated header.
    public subscript(_ name: String) -> String? {
        headers.first(where: { $0.name.amiNameEquals(name) })?.value
    }

    /// Every value of that name, in order.
    public func values(_ name: String) -> [String] {
        headers.compactMap { $0.name.amiNameEquals(name) ? $0.value : nil }
    }

    public mutating func append(_ name: String, _ value: String) {
        headers.append(AMIHeader(name: name, value: value))
    }
}

extension String {
    /// ASCII case-insensitive comparison; header names are ASCII, and this avoids allocating
    /// lowercased copies on the hot path of every event.
    @inlinable
    func amiNameEquals(_ other: String) -> Bool {
        // Lengths differ for most pairs, and comparing them is O(1) for native strings.
        guard utf8.count == other.utf8.count else { return false }
        var a = self.utf8.makeIterator()
        var b = other.utf8.makeIterator()
        while true {
            switch (a.next(), b.next()) {
            case (nil, nil):
                return true
            case let (x?, y?):
                if x == y { continue }
                if x | 0x20 == y | 0x20, (x | 0x20) >= UInt8(ascii: "a"), (x | 0x20) <= UInt8(ascii: "z") {
                    continue
                }
                return false
            default:
                return false
            }
        }
    }
}
