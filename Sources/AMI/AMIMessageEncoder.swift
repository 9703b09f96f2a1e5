import ByteText
import NIOCore

public enum AMIEncodingError: Error, Equatable, CustomStringConvertible {
    /// CR, LF or NUL would end a line early and let the rest inject headers or whole actions.
    case forbiddenCharacter(header: String)
    case invalidName(String)
    case lineTooLong(header: String, limit: Int)
    case tooManyLines(limit: Int)

    public var description: String {
        switch self {
        case .forbiddenCharacter(let header):
            return "AMI header \(header.debugDescription) contains CR, LF or NUL"
        case .invalidName(let name):
            return "AMI header name \(name.debugDescription) is empty or contains a colon"
        case .lineTooLong(let header, let limit):
            return "AMI header \(header.debugDescription) is longer than Asterisk's \(limit)-byte line limit"
        case .tooManyLines(let limit):
            return "AMI action has more than Asterisk's \(limit) lines"
        }
    }
}

/// Writes messages as `Name: value` CRLF lines and a blank line, refusing anything that could break
/// the framing.
public enum AMIMessageWriter {
    /// Asterisk reads a request line into a 1024-byte buffer, CRLF included. (`OriginateLimits` in
    /// CallFile states the same figure, so that `spoold check` and spoold's refusal agree with this.)
    public static let maximumRequestLineLength = 1024
    /// Asterisk accepts at most 128 lines per request, the blank line included.
    public static let maximumRequestHeaderCount = 127

    /// - Parameter enforceRequestLimits: apply Asterisk's request-size limits (for actions we send),
    ///   so an oversized action fails here with a clear cause instead of as a parse error from Asterisk.
    public static func write(_ message: AMIMessage, to buffer: inout ByteBuffer, enforceRequestLimits: Bool) throws {
        if enforceRequestLimits, message.headers.count > maximumRequestHeaderCount {
            throw AMIEncodingError.tooManyLines(limit: maximumRequestHeaderCount + 1)
        }
        for header in message.headers {
            try validate(header, enforceRequestLimits: enforceRequestLimits)
        }
        for header in message.headers {
            buffer.writeString(header.name)
            buffer.writeStaticString(": ")
            // A value from a call file may hold bytes that are not UTF-8: they go out as they came in.
            buffer.writeBytes(ByteText.bytes(header.value))
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("\r\n")
    }

    public static func validate(_ header: AMIHeader, enforceRequestLimits: Bool) throws {
        var nameBytes = 0
        for byte in header.name.utf8 {
            if byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") || byte == 0 {
                throw AMIEncodingError.forbiddenCharacter(header: header.name)
            }
            if byte == UInt8(ascii: ":") { throw AMIEncodingError.invalidName(header.name) }
            nameBytes += 1
        }
        if nameBytes == 0 { throw AMIEncodingError.invalidName(header.name) }
        // ByteText never escapes ASCII, so every CR, LF and NUL is seen here.
        for byte in header.value.utf8 {
            if byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") || byte == 0 {
                throw AMIEncodingError.forbiddenCharacter(header: header.name)
            }
        }
        let valueBytes = ByteText.byteCount(header.value)
        if enforceRequestLimits, nameBytes + 2 + valueBytes + 2 > maximumRequestLineLength {
            throw AMIEncodingError.lineTooLong(header: header.name, limit: maximumRequestLineLength)
        }
    }
}

/// The outbound codec for a pipeline: `AMIMessage` to bytes, with Asterisk's request limits.
public struct AMIMessageEncoder: MessageToByteEncoder {
    public typealias OutboundIn = AMIMessage

    public let enforceRequestLimits: Bool

    public init(enforceRequestLimits: Bool = true) {
        self.enforceRequestLimits = enforceRequestLimits
    }

    public func encode(data: AMIMessage, out: inout ByteBuffer) throws {
        try AMIMessageWriter.write(data, to: &out, enforceRequestLimits: enforceRequestLimits)
    }
}
