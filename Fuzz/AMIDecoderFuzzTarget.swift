// libFuzzer target for the AMI frame parser (Sources/AMI/AMIFrameParser.swift), compiled with
// AMIMessage.swift against NIOCoreShim (scripts/fuzz), so no part of SwiftNIO has to be built with
// sanitizers. Checks:
// - no header name or value holds LF, no message is empty or over the header limit (a bare CR inside a
//   line is data and may stay: AMIMessageWriter refuses CR, LF and NUL, so it can never be echoed onto the
//   wire);
// - the frames do not depend on how the bytes are split into reads: fed in chunks chosen by the input's
//   first byte, the parser yields exactly the frames it yields for the whole input at once, and throws
//   the same error (a line over the limit) at the same place.
import NIOCore

private let lineLimit = 64
private let headerLimit = 8

private struct Outcome: Equatable {
    var frames: [AMIFrame] = []
    var error: AMIDecodingError?
}

private func decode(_ bytes: ArraySlice<UInt8>, chunkSize: Int?) -> Outcome {
    var parser = AMIFrameParser(expectsBanner: bytes.first.map { $0 & 1 == 1 } ?? false,
                                maximumLineLength: lineLimit, maximumHeaderCount: headerLimit)
    var buffer = ByteBuffer()
    var outcome = Outcome()
    var offset = bytes.startIndex
    repeat {
        let end = chunkSize.map { min(offset + $0, bytes.endIndex) } ?? bytes.endIndex
        buffer.writeBytes(bytes[offset..<end])
        offset = end
        do {
            while let frame = try parser.next(from: &buffer) { outcome.frames.append(frame) }
        } catch let error as AMIDecodingError {
            outcome.error = error
            return outcome
        } catch {
            fatalError("unexpected error type \(error)")
        }
    } while offset < bytes.endIndex
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func amiDecoderFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let first = bytes.first else { return 0 }
    let whole = decode(bytes[...], chunkSize: nil)
    for frame in whole.frames {
        guard case .message(let message) = frame else { continue }
        precondition(!message.headers.isEmpty, "empty message")
        precondition(message.headers.count <= headerLimit, "\(message.headers.count) headers, limit \(headerLimit)")
        for header in message.headers {
            for text in [header.name, header.value] where text.utf8.contains(10) {
                fatalError("LF inside a decoded header: \(header)")
            }
        }
    }
    let chunked = decode(bytes[...], chunkSize: Int(first % 16) + 1)
    if chunked != whole {
        fatalError("split reads changed the result: whole \(whole) vs chunks of \(Int(first % 16) + 1): \(chunked)")
    }
    return 0
}
