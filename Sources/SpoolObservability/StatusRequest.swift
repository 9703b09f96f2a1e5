import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import PooledHTTP

/// `spoold status --metrics-listen ADDR`: asks a running spoold's metrics listener, through spoold's one
/// HTTP client (`PooledHTTPClient`).
public enum StatusRequest {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// `GET /status`, decoded.
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

    /// One request; the response's status code and body (at most 1 MiB).
    public static func request(
        _ path: String, method: HTTPMethod = .GET, from address: ListenAddress, timeout: Duration = .seconds(10),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> (status: Int, body: [UInt8]) {
        let configuration = PooledHTTPClient.Configuration(
            host: address.host, port: address.port, connectTimeout: min(timeout, .seconds(5)), maxConnections: 1,
            maxBodyBytes: 1 << 20)
        do {
            return try await PooledHTTPClient.withClient(configuration, eventLoopGroup: group) { client in
                let response = try await client.request(method, path, timeout: timeout)
                return (Int(response.status.code), Array(response.body.readableBytesView))
            }
        } catch let failure as PooledHTTPClient.Failure {
            switch failure {
            case .timedOut: throw Failure(description: "\(address) did not answer within \(timeout)")
            case .connectTimeout: throw Failure(description: "no spoold answers on \(address): \(failure)")
            default: throw Failure(description: "reading \(path) from \(address) failed: \(failure)")
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw Failure(description: "no spoold answers on \(address): \(error)")
        }
    }
}
