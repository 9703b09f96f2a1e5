import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// spoold's one HTTP/1.1 client (AMI over `/rawman`, `spoold status`), on async-http-client: connections
/// to one server are kept alive and pooled, every request has a deadline, and cancelling the calling
/// task cancels the request. One client talks to one server (`Configuration.host`/`port`).
///
/// An async-http-client must be shut down before it is released, so a `PooledHTTPClient` is only used
/// inside `withClient`, which shuts it down however the body ends.
public final class PooledHTTPClient: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// nil: plain HTTP. Otherwise HTTPS with these settings (trust roots, verification).
        public var tls: TLSConfiguration?
        /// The name the server's certificate must carry (also sent as SNI), when it is not `host`; the
        /// connection still goes to `host`.
        public var serverName: String?
        public var connectTimeout: Duration
        /// A kept-alive connection unused this long is closed by us. Keep it under the server's own
        /// keep-alive (Asterisk's `session_keep_alive`, 15 s by default), so that a request is never sent
        /// on a connection the server is closing.
        public var idleTimeout: Duration
        /// How many connections may be open at once; more concurrent requests wait for one.
        public var maxConnections: Int
        /// A response body larger than this fails the request.
        public var maxBodyBytes: Int

        public init(host: String, port: Int, tls: TLSConfiguration? = nil, serverName: String? = nil,
                    connectTimeout: Duration = .seconds(5), idleTimeout: Duration = .seconds(10),
                    maxConnections: Int = 8, maxBodyBytes: Int = 4 << 20) {
            self.host = host
            self.port = port
            self.tls = tls
            self.serverName = serverName
            self.connectTimeout = connectTimeout
            self.idleTimeout = idleTimeout
            self.maxConnections = maxConnections
            self.maxBodyBytes = maxBodyBytes
        }
    }

    public struct Response: Sendable {
        public var status: HTTPResponseStatus
        public var headers: HTTPHeaders
        public var body: ByteBuffer
    }

    /// Why a request got no response, in words for a log line; other errors (TLS, refused connection)
    /// come through as the transport raised them.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// No whole response before the request's deadline.
        case timedOut(Duration)
        /// The server closed the connection before a whole response arrived.
        case connectionClosed
        /// No connection within `connectTimeout`.
        case connectTimeout(Duration)
        case bodyTooLarge(Int)

        public var description: String {
            switch self {
            case .timedOut(let limit): "no HTTP response within \(limit)"
            case .connectionClosed: "the connection closed before a whole HTTP response arrived"
            case .connectTimeout(let limit): "no connection within \(limit)"
            case .bodyTooLarge(let limit): "the HTTP response is larger than \(limit) bytes"
            }
        }
    }

    public let configuration: Configuration
    private let client: HTTPClient
    /// `scheme://authority`, every request's URL up to its path.
    private let origin: String

    private init(configuration: Configuration, eventLoopGroup: any EventLoopGroup) {
        self.configuration = configuration
        var settings = HTTPClient.Configuration(
            tlsConfiguration: configuration.tls,
            redirectConfiguration: .disallow,
            timeout: HTTPClient.Configuration.Timeout(connect: TimeAmount(configuration.connectTimeout)),
            connectionPool: HTTPClient.Configuration.ConnectionPool(
                idleTimeout: TimeAmount(configuration.idleTimeout),
                concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, configuration.maxConnections)))
        // A server that refuses us (wrong certificate, nothing listening) is reported at once, with its
        // cause, instead of being retried until the request's deadline.
        settings.connectionPool.retryConnectionEstablishment = false
        settings.httpVersion = .http1Only
        let urlHost: String
        if let serverName = configuration.serverName, serverName != configuration.host {
            // The URL names the certificate's name (checked and sent as SNI); the override sends the
            // connection to the configured host.
            urlHost = serverName
            settings.dnsOverride = [serverName: configuration.host]
        } else {
            urlHost = configuration.host
        }
        let authority = (urlHost.contains(":") ? "[\(urlHost)]" : urlHost) + ":\(configuration.port)"
        origin = (configuration.tls == nil ? "http://" : "https://") + authority
        client = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: settings)
    }

    /// Runs `body` with a new client and shuts the client down (closing its connections) afterwards.
    public static func withClient<T: Sendable>(
        _ configuration: Configuration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        _ body: (PooledHTTPClient) async throws -> T
    ) async throws -> T {
        let client = PooledHTTPClient(configuration: configuration, eventLoopGroup: eventLoopGroup)
        let result: Result<T, any Error>
        do {
            result = .success(try await body(client))
        } catch {
            result = .failure(error)
        }
        try? await client.client.shutdown()
        return try result.get()
    }

    /// One request: `target` is the path with its query. Returns the whole response, or throws once
    /// `timeout` has passed, the connection failed, or the calling task was cancelled.
    public func request(
        _ method: HTTPMethod = .GET, _ target: String, headers: [(String, String)] = [], timeout: Duration
    ) async throws -> Response {
        var request = HTTPClientRequest(url: origin + target)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        do {
            let response = try await client.execute(request, deadline: deadline)
            let body = try await response.body.collect(upTo: configuration.maxBodyBytes)
            return Response(status: response.status, headers: response.headers, body: body)
        } catch let error as HTTPClientError {
            throw classify(error, timeout: timeout)
        } catch is NIOTooManyBytesError {
            throw Failure.bodyTooLarge(configuration.maxBodyBytes)
        }
    }

    private func classify(_ error: HTTPClientError, timeout: Duration) -> any Error {
        switch error {
        case .deadlineExceeded, .readTimeout, .writeTimeout: return Failure.timedOut(timeout)
        case .connectTimeout: return Failure.connectTimeout(configuration.connectTimeout)
        case .remoteConnectionClosed: return Failure.connectionClosed
        case .cancelled: return CancellationError()
        default: return error
        }
    }
}
