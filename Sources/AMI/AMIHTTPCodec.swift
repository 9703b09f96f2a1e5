import ByteText
import NIOCore

/// AMI over HTTP (Asterisk's `/rawman`): an action is a query string, a reply is the same `Key: value`
/// lines as on TCP. Pure functions, shared by the HTTP client and the HTTP test server.
public enum AMIHTTPCodec {
    /// The query string for an action: one `name=value` per header, in order (a repeated `Variable` stays
    /// repeated), percent-encoded. CR, LF or NUL are refused as on TCP: Asterisk turns each parameter
    /// into a header line, so they would smuggle lines in.
    public static func query(for message: AMIMessage) throws -> String {
        var parts: [String] = []
        parts.reserveCapacity(message.headers.count)
        for header in message.headers {
            try AMIMessageWriter.validate(header, enforceRequestLimits: false)
            parts.append(percentEncode(header.name) + "=" + percentEncode(header.value))
        }
        return parts.joined(separator: "&")
    }

    /// The parameters of a query string, decoded (`+` is a space), in order.
    public static func parameters(ofQuery query: Substring) -> [AMIHeader] {
        query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            guard let equals = pair.firstIndex(of: "=") else {
                return AMIHeader(name: percentDecode(pair), value: "")
            }
            return AMIHeader(name: percentDecode(pair[..<equals]), value: percentDecode(pair[pair.index(after: equals)...]))
        }
    }

    /// Every byte but RFC 3986's unreserved characters is escaped, so no value can change the URL's shape.
    /// A call-file value's bytes that are not UTF-8 go out as those bytes (contract §5), as on TCP.
    public static func percentEncode(_ text: String) -> String {
        var out = ""
        let bytes = ByteText.bytes(text)
        out.reserveCapacity(bytes.count)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + hexDigit(byte >> 4) + hexDigit(byte & 0xF)
            }
        }
        return out
    }

    /// `%XX` and `+` decoded; a malformed escape is kept as it stands rather than dropped.
    public static func percentDecode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"), index + 2 < utf8.count, let high = hexValue(utf8[index + 1]), let low = hexValue(utf8[index + 2]) {
                bytes.append(high << 4 | low)
                index += 3
                continue
            }
            bytes.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index += 1
        }
        return ByteText.decode(bytes)
    }

    /// A `/rawman` body: messages separated by blank lines, exactly as on TCP but with no banner. A last
    /// message without its blank line is still returned (the body's end closes it).
    public static func messages(inRawmanBody body: ByteBuffer) throws -> [AMIMessage] {
        var buffer = body
        if buffer.readableBytesView.last != UInt8(ascii: "\n") { buffer.writeStaticString("\r\n") }
        buffer.writeStaticString("\r\n")
        var parser = AMIFrameParser(expectsBanner: false)
        var messages: [AMIMessage] = []
        while let frame = try parser.next(from: &buffer) {
            if case .message(let message) = frame { messages.append(message) }
        }
        return messages
    }

    /// The `mansession_id` of a `Set-Cookie` header (`mansession_id="852199c2"; Version=1; Max-Age=60`),
    /// quotes removed; nil when the header sets another cookie.
    public static func sessionID(fromSetCookie header: String) -> String? {
        guard let first = header.split(separator: ";").first else { return nil }
        let pair = first.trimmingASCIISpaces()
        guard let equals = pair.firstIndex(of: "="), pair[..<equals].trimmingASCIISpaces() == "mansession_id" else { return nil }
        var value = pair[pair.index(after: equals)...].trimmingASCIISpaces()
        if value.count >= 2, value.first == "\"", value.last == "\"" { value = value.dropFirst().dropLast() }
        return value.isEmpty ? nil : String(value)
    }

    /// The `Cookie` header that presents a session id (quoted, as Asterisk sets it).
    public static func cookieHeader(sessionID: String) -> String {
        "mansession_id=\"\(sessionID)\""
    }

    private static func hexDigit(_ value: UInt8) -> String {
        String(UnicodeScalar(value < 10 ? value + 48 : value + 55))
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - 48
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - 87
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - 55
        default: return nil
        }
    }
}

extension Substring {
    func trimmingASCIISpaces() -> Substring {
        var result = self
        while result.first == " " || result.first == "\t" { result = result.dropFirst() }
        while result.last == " " || result.last == "\t" { result = result.dropLast() }
        return result
    }
}
