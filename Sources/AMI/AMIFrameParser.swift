import ByteText
import NIOCore

/// What arrives from an AMI server: first the one-line banner, then messages.
public enum AMIFrame: Sendable, Equatable {
    /// `Asterisk Call Manager/<version>`, without its line ending. No blank line follows it.
    case banner(String)
    case message(AMIMessage)
}

public enum AMIDecodingError: Error, Equatable, CustomStringConvertible {
    case lineTooLong(limit: Int)
    case tooManyHeaders(limit: Int)

    public var description: String {
        switch self {
        case .lineTooLong(let limit): return "AMI line longer than \(limit) bytes"
        case .tooManyHeaders(let limit): return "AMI message with more than \(limit) headers"
        }
    }
}

/// Turns bytes into frames, apart from any I/O so both the client's decoder and the test server use it.
///
/// Lines end in CRLF or a bare LF. Each complete line is consumed from the buffer at once and kept as a
/// header, so a message split across many reads is scanned only once. Limits bound the memory a
/// misbehaving peer can make us hold.
public struct AMIFrameParser: Sendable {
    public var maximumLineLength: Int
    public var maximumHeaderCount: Int
    private var expectingBanner: Bool
    private var headers: [AMIHeader] = []

    /// - Parameter expectsBanner: true on the client side, where the first line is the banner.
    public init(expectsBanner: Bool, maximumLineLength: Int = 64 * 1024, maximumHeaderCount: Int = 4096) {
        self.expectingBanner = expectsBanner
        self.maximumLineLength = maximumLineLength
        self.maximumHeaderCount = maximumHeaderCount
    }

    /// The next complete frame, consuming its bytes; nil when more bytes are needed.
    public mutating func next(from buffer: inout ByteBuffer) throws -> AMIFrame? {
        while let line = try Self.readLine(from: &buffer, limit: maximumLineLength) {
            if expectingBanner {
                expectingBanner = false
                return .banner(String(decoding: line, as: UTF8.self))
            }
            if line.isEmpty {
                // Blank lines with no headers before them separate nothing; skip them rather than
                // emitting empty messages (Asterisk's ChannelId error leaves such a line behind).
                guard !headers.isEmpty else { continue }
                let message = AMIMessage(headers: headers)
                headers.removeAll(keepingCapacity: true)
                return .message(message)
            }
            guard headers.count < maximumHeaderCount else {
                throw AMIDecodingError.tooManyHeaders(limit: maximumHeaderCount)
            }
            headers.append(Self.header(from: line))
        }
        return nil
    }

    /// Reads one line without its CR/LF ending, or nil if no LF has arrived yet.
    private static func readLine(from buffer: inout ByteBuffer, limit: Int) throws -> ByteBufferView? {
        let view = buffer.readableBytesView
        guard let lf = view.firstIndex(of: UInt8(ascii: "\n")) else {
            // A line of exactly `limit` bytes may be waiting for the LF of its CRLF: the CR is not counted,
            // or a CRLF split between two reads would refuse a line that is accepted whole (found by fuzzing).
            let pending = view.last == UInt8(ascii: "\r") ? view.count - 1 : view.count
            if pending > limit { throw AMIDecodingError.lineTooLong(limit: limit) }
            return nil
        }
        var end = lf
        if end > view.startIndex, view[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        if end - view.startIndex > limit { throw AMIDecodingError.lineTooLong(limit: limit) }
        let line = view[view.startIndex..<end]
        buffer.moveReaderIndex(forwardBy: lf - view.startIndex + 1)
        return line
    }

    private static func lossless(_ bytes: ByteBufferView) -> String {
        bytes.withContiguousStorageIfAvailable { ByteText.decode($0) } ?? ByteText.decode(Array(bytes))
    }

    /// `Name: value`. Blanks after the colon are skipped, trailing blanks kept (as Asterisk does).
    /// A line without a colon is kept whole as a name with an empty value rather than dropped.
    private static func header(from line: ByteBufferView) -> AMIHeader {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            return AMIHeader(name: String(decoding: line, as: UTF8.self), value: "")
        }
        var valueStart = colon + 1
        while valueStart < line.endIndex, line[valueStart] == UInt8(ascii: " ") || line[valueStart] == UInt8(ascii: "\t") {
            valueStart += 1
        }
        return AMIHeader(
            name: String(decoding: line[line.startIndex..<colon], as: UTF8.self),
            // Lossless, so that what a peer sent (the test server records spoold's Originates) can be
            // compared byte for byte.
            value: Self.lossless(line[valueStart..<line.endIndex])
        )
    }
}

/// The client's inbound codec: bytes to `AMIFrame`s.
public struct AMIFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = AMIFrame

    private var parser: AMIFrameParser

    public init(expectsBanner: Bool = true, maximumLineLength: Int = 64 * 1024, maximumHeaderCount: Int = 4096) {
        self.parser = AMIFrameParser(
            expectsBanner: expectsBanner,
            maximumLineLength: maximumLineLength,
            maximumHeaderCount: maximumHeaderCount
        )
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try parser.next(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // A message cut off by the close can never complete; it is dropped, not delivered half.
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}
