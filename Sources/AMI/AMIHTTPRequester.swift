import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One HTTP GET on its own connection (`Connection: close`, as Asterisk's HTTP server answers), with a
/// deadline. Separate connections let a `WaitEvent` long poll wait while actions go on beside it.
struct AMIHTTPRequester: Sendable {
    struct Response: Sendable {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    let eventLoopGroup: any EventLoopGroup
    let host: String
    let port: Int
    let sslContext: NIOSSLContext?
    let serverName: String?
    let connectTimeout: Duration

    func get(_ uri: String, headers extra: [(String, String)], timeout: Duration) async throws -> Response {
        let promise = eventLoopGroup.next().makePromise(of: Response.self)
        let sslContext = self.sslContext
        let serverName = self.serverName
        let bootstrap = ClientBootstrap(group: promise.futureResult.eventLoop)
            .connectTimeout(TimeAmount(connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let sslContext {
                        let name = serverName.flatMap { AMIClient.isIPAddress($0) ? nil : $0 }
                        try pipeline.addHandler(try NIOSSLClientHandler(context: sslContext, serverHostname: name))
                    }
                    try pipeline.addHTTPClientHandlers()
                    try pipeline.addHandler(ResponseCollector(promise: promise))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            promise.fail(error)
            throw AMIClient.classifyConnectError(error)
        }
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: uri)
        head.headers.add(name: "Host", value: port == 80 || port == 443 ? host : "\(host):\(port)")
        head.headers.add(name: "Connection", value: "close")
        for (name, value) in extra { head.headers.add(name: name, value: value) }
        let deadline = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            promise.fail(AMIActionError.responseTimeout)
        }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            promise.fail(CancellationError())
        }
    }

    /// Gathers one response; the connection closing before its end fails it.
    private final class ResponseCollector: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart

        private let promise: EventLoopPromise<Response>
        private var head: HTTPResponseHead?
        private var body = ByteBuffer()

        init(promise: EventLoopPromise<Response>) {
            self.promise = promise
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
            case .body(var part):
                body.writeBuffer(&part)
            case .end:
                guard let head else { return }
                promise.succeed(Response(status: head.status, headers: head.headers, body: body))
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.fail(AMIActionError.connectionLost)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise.fail(AMIConnectionHandler.classify(error))
            context.close(promise: nil)
        }
    }
}
