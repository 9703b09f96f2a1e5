/// A `CallerID` value as written, and the name and number Asterisk derives from it (reference §2.4).
public struct CallerID: Sendable, Equatable {
    /// The value as it stood in the file; this is what a writer writes back.
    public var raw: String
    public var name: String
    public var number: String

    /// Asterisk keeps at most this many bytes of the name and of the number.
    public static let maximumPartLength = 79

    public init(raw: String, name: String, number: String) {
        self.raw = raw
        self.name = name
        self.number = number
    }

    /// Derives name and number from a raw value the way Asterisk's caller-ID parser does.
    public init(parsing raw: String) {
        self.raw = raw
        let (name, number) = Self.split(Array(raw.utf8))
        self.name = Self.decode(Self.cut(name))
        self.number = Self.decode(Self.cut(Self.shrinkNumber(number)))
    }

    private static func split(_ value: [UInt8]) -> (name: [UInt8], number: [UInt8]) {
        var text = trimmed(value[...])
        var quoted = false
        if text.count >= 2, text.first == quote, text.last == quote {
            text = text.dropFirst().dropLast()
            quoted = true
        }
        if let open = text.lastIndex(of: UInt8(ascii: "<")) {
            let afterOpen = text[(open + 1)...]
            let number = afterOpen.firstIndex(of: UInt8(ascii: ">")).map { afterOpen[..<$0] } ?? afterOpen
            return (unquoteName(text[..<open]), Array(number))
        }
        let significant = text.filter { $0 != space && $0 != UInt8(ascii: "(") && $0 != UInt8(ascii: ")") && $0 != UInt8(ascii: "-") }
        if !quoted, !significant.isEmpty, significant.allSatisfy(isPhoneDigit) {
            return ([], Array(text))
        }
        return (Array(text), [])
    }

    /// The name part before `<`: trimmed, surrounding quotes removed, `\"` unescaped.
    private static func unquoteName(_ part: ArraySlice<UInt8>) -> [UInt8] {
        var name = trimmed(part)
        guard name.first == quote else { return Array(name) }
        name = name.dropFirst()
        if name.last == quote { name = name.dropLast() }
        var result: [UInt8] = []
        result.reserveCapacity(name.count)
        var index = name.startIndex
        while index < name.endIndex {
            let byte = name[index]
            let next = name.index(after: index)
            if byte == UInt8(ascii: "\\"), next < name.endIndex, name[next] == quote {
                result.append(quote)
                index = name.index(after: next)
            } else {
                result.append(byte)
                index = next
            }
        }
        return result
    }

    /// Removes spaces and parentheses, hyphens outside `[...]`, and any `.` that is not the last byte.
    private static func shrinkNumber(_ number: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(number.count)
        var bracketDepth = 0
        for (offset, byte) in number.enumerated() {
            switch byte {
            case space, UInt8(ascii: "("), UInt8(ascii: ")"):
                continue
            case UInt8(ascii: "["):
                bracketDepth += 1
            case UInt8(ascii: "]"):
                bracketDepth = max(0, bracketDepth - 1)
            case UInt8(ascii: "-") where bracketDepth == 0:
                continue
            case UInt8(ascii: ".") where offset != number.count - 1:
                continue
            default:
                break
            }
            result.append(byte)
        }
        return result
    }

    private static func isPhoneDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || byte == UInt8(ascii: "*") || byte == UInt8(ascii: "#") || byte == UInt8(ascii: "+")
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, isSpace(first) { slice = slice.dropFirst() }
        while let last = slice.last, isSpace(last) { slice = slice.dropLast() }
        return slice
    }

    /// C's `isspace` in the C locale.
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == space || (0x09...0x0D).contains(byte)
    }

    private static func cut(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        bytes.prefix(maximumPartLength)
    }

    private static func decode(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    private static let quote = UInt8(ascii: "\"")
    private static let space = UInt8(ascii: " ")
}
