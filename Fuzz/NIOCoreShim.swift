// The few NIOCore names AMIFrameParser.swift uses, over a plain array, so that file can be compiled alone
// for fuzzing (scripts/fuzz). It mirrors ByteBuffer's index rules that the parser relies on: a view's
// indices are absolute reader positions, slices keep them, and moving the reader past the writer traps.

public struct ByteBufferView: RandomAccessCollection, Sendable {
    public typealias Index = Int
    public typealias SubSequence = ByteBufferView
    public typealias Indices = Range<Int>

    let storage: [UInt8]
    let range: Range<Int>

    public var startIndex: Int { range.lowerBound }
    public var endIndex: Int { range.upperBound }

    public subscript(position: Int) -> UInt8 {
        precondition(range.contains(position), "index \(position) outside the view \(range)")
        return storage[position]
    }

    public subscript(bounds: Range<Int>) -> ByteBufferView {
        precondition(bounds.lowerBound >= range.lowerBound && bounds.upperBound <= range.upperBound,
                     "slice \(bounds) outside the view \(range)")
        return ByteBufferView(storage: storage, range: bounds)
    }
}

public struct ByteBuffer: Sendable {
    private var storage: [UInt8] = []
    public private(set) var readerIndex = 0
    public var writerIndex: Int { storage.count }

    public init() {}

    public var readableBytesView: ByteBufferView { ByteBufferView(storage: storage, range: readerIndex..<storage.count) }

    public mutating func writeBytes<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        storage.append(contentsOf: bytes)
    }

    public mutating func moveReaderIndex(forwardBy offset: Int) {
        moveReaderIndex(to: readerIndex + offset)
    }

    public mutating func moveReaderIndex(to index: Int) {
        precondition(index >= 0 && index <= writerIndex, "reader index \(index) beyond the writer index \(writerIndex)")
        readerIndex = index
    }
}

// The channel-pipeline side of the file (AMIFrameDecoder) only has to compile; the fuzzer never calls it.
public enum DecodingState { case `continue`, needMoreData }

public final class ChannelHandlerContext {
    public func fireChannelRead(_ data: NIOAny) {}
}

public struct NIOAny {}

public protocol ByteToMessageDecoder {
    associatedtype InboundOut
    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState
    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState
}

extension ByteToMessageDecoder {
    public func wrapInboundOut(_ value: InboundOut) -> NIOAny { NIOAny() }
}
