import NIOCore
import NIOSSL

/// Thin glue between one channel and its `AMIConnectionStateMachine`: feeds it frames, timers and
/// errors, and carries out what it asks. Everything else goes to the client's core.
final class AMIConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = AMIFrame
    typealias OutboundOut = ByteBuffer

    private var stateMachine: AMIConnectionStateMachine
    private let core: AMIClientCore
    private let responseTimeout: TimeAmount
    private let pingTimeout: TimeAmount
    private var responseTimer: Scheduled<Void>?
    private var pingTimer: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    /// Why the connection ended, as first known; nil while open or after a clean logoff.
    private(set) var closeError: AMIConnectionError?
    private(set) var becameReady = false
    private var closeRequested = false

    init(stateMachine: AMIConnectionStateMachine, core: AMIClientCore, responseTimeout: TimeAmount, pingTimeout: TimeAmount) {
        self.stateMachine = stateMachine
        self.core = core
        self.responseTimeout = responseTimeout
        self.pingTimeout = pingTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { perform(stateMachine.connected(), context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(stateMachine.connected(), context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        perform(stateMachine.received(unwrapInboundIn(data)), context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        core.flushIfNeeded()
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            perform(stateMachine.readIdle(), context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        perform(stateMachine.errorCaught(Self.classify(error)), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        stateMachine.channelClosed()
        cancelTimers()
        if !closeRequested, closeError == nil { closeError = .closedByServer }
        core.connectionClosed(by: self)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        self.context = nil
    }

    /// Leave with Logoff (on cancellation of the client's run).
    func logoff() {
        guard let context else { return }
        perform(stateMachine.logoff(), context: context)
    }

    private func perform(_ actions: [AMIConnectionStateMachine.Action], context: ChannelHandlerContext) {
        for action in actions {
            switch action {
            case .write(let message):
                var buffer = context.channel.allocator.buffer(capacity: 128)
                do {
                    // Only our own fixed actions and the configured username reach here.
                    try AMIMessageWriter.write(message, to: &buffer, enforceRequestLimits: true)
                } catch {
                    perform(stateMachine.errorCaught(.other("cannot send \(message["Action"] ?? "action"): \(error)")), context: context)
                    return
                }
                context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            case .startTimer(let timer):
                schedule(timer, context: context)
            case .cancelTimer(.response):
                responseTimer?.cancel()
                responseTimer = nil
            case .cancelTimer(.ping):
                pingTimer?.cancel()
                pingTimer = nil
            case .ready(let version, let serverFilter):
                becameReady = true
                core.connectionReady(context.channel, version: version, serverFilter: serverFilter)
            case .deliver(let message):
                core.handle(message)
            case .close(let error):
                if closeError == nil { closeError = error }
                closeRequested = true
                context.close(promise: nil)
            }
        }
    }

    private func schedule(_ timer: AMIConnectionStateMachine.Timer, context: ChannelHandlerContext) {
        let delay = timer == .response ? responseTimeout : pingTimeout
        let scheduled = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            guard let context = self.context else { return }
            perform(stateMachine.timerFired(timer), context: context)
        }
        switch timer {
        case .response:
            responseTimer?.cancel()
            responseTimer = scheduled
        case .ping:
            pingTimer?.cancel()
            pingTimer = scheduled
        }
    }

    private func cancelTimers() {
        responseTimer?.cancel()
        responseTimer = nil
        pingTimer?.cancel()
        pingTimer = nil
    }

    static func classify(_ error: any Error) -> AMIConnectionError {
        switch error {
        case let error as AMIConnectionError:
            return error
        case let error as AMIDecodingError:
            return .protocolError(error.description)
        case let error as NIOSSLError:
            return .tls(String(describing: error))
        case let error as BoringSSLError:
            return .tls(String(describing: error))
        case let error as NIOSSLExtraError:
            return .tls(String(describing: error))
        default:
            return .other(String(describing: error))
        }
    }
}
