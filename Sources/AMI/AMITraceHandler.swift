import Logging
import NIOCore

/// Logs every AMI frame in and every action out at `trace` level, masked by `AMITrace`. Sits between the
/// frame decoder and the connection handler, so it sees decoded frames inbound and the encoded bytes of
/// both the handler's and the client core's writes outbound. Only in the pipeline when tracing is on.
final class AMITraceHandler: ChannelDuplexHandler {
    typealias InboundIn = AMIFrame
    typealias InboundOut = AMIFrame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .banner(let line):
            logger.trace("AMI received\n< \(line)")
        case .message(let message):
            logger.trace("AMI received\n\(AMITrace.text(message, .received))")
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Re-parse a copy of the bytes: every write here holds whole messages the writer framed.
        var copy = unwrapOutboundIn(data)
        var parser = AMIFrameParser(expectsBanner: false)
        while let frame = try? parser.next(from: &copy) {
            if case .message(let message) = frame {
                logger.trace("AMI sent\n\(AMITrace.text(message, .sent))")
            }
        }
        context.write(data, promise: promise)
    }
}
