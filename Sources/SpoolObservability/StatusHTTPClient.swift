import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// `spoold status --metrics-listen ADDR`: fetches `/status` from a running spoold.
public enum StatusHTTPClient {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func fetch(
        from address: ListenAddress, timeout: Duration = .seconds(10),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> StatusSnapshot {
        let (status, body) = try await request("/status", from: address, timeout: timeout, group: group)
        guard status == 200 else {
            throw Failure(description: "\(address) answered \(status) to GET /status: is it a spoold metrics endpoint?")
        }
        do {
            return try JSONDecoder().decode(StatusSnapshot.self, from: Data(body))
        } catch {
            throw Failure(description: "\(address) sent a status that is not spoold's: \(error)")
        }
    }

    /// One HTTP/1.1 request on a fresh connection; the response's status code and body (at most 1 MiB).
    public static func request(
        _ path: String, method: HTTPMethod = .GET, from address: ListenAddress, timeout: Duration = .seconds(10),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> (status: Int, body: [UInt8]) {
        let loop = group.next()
        let response = OnceResponse(loop.makePromise(of: (HTTPResponseStatus, [UInt8]).self))
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: response))
                    }
                }
                .connect(host: address.host, port: address.port)
                .get()
        } catch {
            response.complete(.failure(error))
            throw Failure(description: "no spoold answers on \(address): \(error)")
        }
        let (seconds, attoseconds) = timeout.components
        let deadline = loop.scheduleTask(in: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)) {
            response.complete(.failure(Failure(description: "\(address) did not answer within \(timeout)")))
            channel.close(promise: nil)
        }
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: address.description)
        headers.add(name: "Connection", value: "close")
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        do {
            let (status, body) = try await response.promise.futureResult.get()
            return (Int(status.code), body)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "reading \(path) from \(address) failed: \(error)")
        }
    }
}

final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: OnceResponse
    private var status = HTTPResponseStatus.ok
    private var body: [UInt8] = []

    init(promise: OnceResponse) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status
        case .body(let buffer):
            if body.count < 1 << 20 { body += buffer.readableBytesView }
        case .end:
            promise.complete(.success((status, body)))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.complete(.failure(StatusHTTPClient.Failure(description: "the connection closed before a whole response arrived")))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.complete(.failure(error))
        context.close(promise: nil)
    }
}

/// The response promise, completed by whichever comes first: the response, an error, the deadline.
final class OnceResponse: Sendable {
    let promise: EventLoopPromise<(HTTPResponseStatus, [UInt8])>
    private let done = Mutex(false)

    init(_ promise: EventLoopPromise<(HTTPResponseStatus, [UInt8])>) { self.promise = promise }

    func complete(_ result: Result<(HTTPResponseStatus, [UInt8]), any Error>) {
        let first = done.withLock { done in
            defer { done = true }
            return !done
        }
        if first { promise.completeWith(result) }
    }
}
