/// Bytes that need not be UTF-8, held in a `String` without losing any of them.
///
/// A call-file value is bytes; Asterisk passes them on as they are, and so must spoold (contract §5). Swift
/// strings hold only Unicode scalars, and decoding repairs invalid UTF-8 with U+FFFD, which changes the
/// bytes. So each byte that is not part of well-formed UTF-8 is held as one scalar of its own from the
/// last 128 code points of Unicode (U+10FF80 + byte - 0x80, private use and noncharacters that no text
/// carries), and turned back into that byte on the way out. A well-formed scalar that falls in that range
/// itself is held as its bytes the same way, so the mapping stays one to one: `bytes(decode(x)) == x` for
/// every byte sequence `x`.
///
/// ASCII, and so CR, LF and NUL, is never escaped: a check for those on the String sees every one.
public enum ByteText {
    /// The first scalar used for a byte; bytes 0x80-0xFF map to U+10FF80-U+10FFFF.
    static let escapeBase: UInt32 = 0x10FF00
    static let escapeFirst: UInt32 = 0x10FF80

    /// The String for `bytes`: plain UTF-8 decoding when the bytes are well-formed (the usual case).
    public static func decode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { decode($0) }
    }

    /// The String for `bytes`, for callers that hold them in a buffer of their own (the AMI parser): a
    /// concrete type, so that the hot path is specialized rather than generic across modules.
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        // ASCII, nearly every AMI value, needs no look at scalars at all.
        if !bytes.contains(where: { $0 >= 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        if let text = String(validating: bytes, as: UTF8.self), !hasEscapes(text) {
            return text
        }
        var scalars = String.UnicodeScalarView()
        let array = Array(bytes)
        var index = 0
        while index < array.count {
            if case let (scalar, length)? = wellFormedScalar(in: array, at: index) {
                if isEscape(scalar) {
                    // A scalar from the range the escapes use: held as its bytes, like invalid ones.
                    for byte in array[index..<index + length] { scalars.append(escape(byte)) }
                } else {
                    scalars.append(scalar)
                }
                index += length
            } else {
                // Not well-formed here: this byte alone; the next ones are looked at again on their own.
                scalars.append(escape(array[index]))
                index += 1
            }
        }
        return String(scalars)
    }

    /// The bytes `text` stands for: its UTF-8, with each escape scalar turned back into its byte.
    public static func bytes(_ text: String) -> [UInt8] {
        guard hasEscapes(text) else { return Array(text.utf8) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if isEscape(scalar) {
                bytes.append(UInt8(scalar.value - escapeBase))
            } else {
                bytes += String(scalar).utf8
            }
        }
        return bytes
    }

    /// How many bytes `bytes(text)` has, without making them.
    public static func byteCount(_ text: String) -> Int {
        guard hasEscapes(text) else { return text.utf8.count }
        return text.unicodeScalars.reduce(0) { $0 + (isEscape($1) ? 1 : UTF8.width($1)) }
    }

    /// Whether `text` holds any byte that is not plain UTF-8 text.
    public static func hasEscapes(_ text: String) -> Bool {
        // Every escape scalar's UTF-8 starts with 0xF4 0x8F 0xBE or 0xF4 0x8F 0xBF; most text has no 0xF4.
        text.utf8.contains(0xF4) && text.unicodeScalars.contains(where: isEscape)
    }

    static func isEscape(_ scalar: Unicode.Scalar) -> Bool { scalar.value >= escapeFirst }

    static func escape(_ byte: UInt8) -> Unicode.Scalar {
        Unicode.Scalar(escapeBase + UInt32(byte))!
    }

    /// The well-formed UTF-8 scalar at `index` and its length in bytes (Unicode table 3-7), or nil.
    static func wellFormedScalar(in bytes: [UInt8], at index: Int) -> (scalar: Unicode.Scalar, length: Int)? {
        let first = bytes[index]
        if first < 0x80 { return (Unicode.Scalar(first), 1) }
        func continuation(_ offset: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> UInt32? {
            guard index + offset < bytes.count, range.contains(bytes[index + offset]) else { return nil }
            return UInt32(bytes[index + offset] & 0x3F)
        }
        func scalar(_ value: UInt32, _ length: Int) -> (scalar: Unicode.Scalar, length: Int)? {
            Unicode.Scalar(value).map { ($0, length) }
        }
        switch first {
        case 0xC2...0xDF:
            guard let b1 = continuation(1) else { return nil }
            return scalar(UInt32(first & 0x1F) << 6 | b1, 2)
        case 0xE0...0xEF:
            let second: ClosedRange<UInt8> = first == 0xE0 ? 0xA0...0xBF : first == 0xED ? 0x80...0x9F : 0x80...0xBF
            guard let b1 = continuation(1, second), let b2 = continuation(2) else { return nil }
            return scalar(UInt32(first & 0x0F) << 12 | b1 << 6 | b2, 3)
        case 0xF0...0xF4:
            let second: ClosedRange<UInt8> = first == 0xF0 ? 0x90...0xBF : first == 0xF4 ? 0x80...0x8F : 0x80...0xBF
            guard let b1 = continuation(1, second), let b2 = continuation(2), let b3 = continuation(3) else { return nil }
            return scalar(UInt32(first & 0x07) << 18 | b1 << 12 | b2 << 6 | b3, 4)
        default:
            return nil
        }
    }
}
