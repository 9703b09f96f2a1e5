import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The metrics endpoint: `GET /metrics` (Prometheus text) and `GET /status` (the status snapshot as
/// JSON); 404 for any other path, 405 for any other method. One response per connection, then close:
/// scrapers reconnect cheaply and nothing is held open. Bound before the service group starts, so a
/// taken port stops `spoold run` at once with a clear message.
public final class MetricsHTTPServer: Service, Sendable, CustomStringConvertible {
    private let channel: any Channel
    /// The address actually bound (the port is the chosen one when 0 was asked for).
    public let address: ListenAddress

    private init(channel: any Channel, address: ListenAddress) {
        self.channel = channel
        self.address = address
    }

    public var description: String { "MetricsHTTPServer(\(address))" }

    public static func bind(
        _ address: ListenAddress, metrics: SpoolMetrics, status: StatusBoard,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> MetricsHTTPServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(metrics: metrics, status: status))
                }
            }
            .bind(host: address.host, port: address.port)
            .get()
        let port = channel.localAddress?.port ?? address.port
        return MetricsHTTPServer(channel: channel, address: ListenAddress(host: address.host, port: port))
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try await close()
    }

    public func close() async throws {
        try await channel.close()
    }
}

final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let metrics: SpoolMetrics
    let status: StatusBoard
    private var request: HTTPRequestHead?

    init(metrics: SpoolMetrics, status: StatusBoard) {
        self.metrics = metrics
        self.status = status
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break
        case .end:
            guard let head = request else { return }
            respond(to: head, context: context)
        }
    }

    func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let (status, contentType, body): (HTTPResponseStatus, String, [UInt8])
        switch (head.method, path) {
        case (.GET, "/metrics"), (.HEAD, "/metrics"):
            (status, contentType, body) = (.ok, "text/plain; version=0.0.4; charset=utf-8", metrics.render())
        case (.GET, "/status"), (.HEAD, "/status"):
            let json = (try? JSONEncoder().encode(self.status.snapshot)).map { Array($0) + [UInt8(ascii: "\n")] } ?? []
            (status, contentType, body) = (.ok, "application/json", json)
        case (_, "/metrics"), (_, "/status"):
            (status, contentType, body) = (.methodNotAllowed, "text/plain; charset=utf-8", Array("only GET\n".utf8))
        default:
            (status, contentType, body) = (.notFound, "text/plain; charset=utf-8", Array("not found: try /metrics or /status\n".utf8))
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        if status == .methodNotAllowed { headers.add(name: "Allow", value: "GET, HEAD") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
