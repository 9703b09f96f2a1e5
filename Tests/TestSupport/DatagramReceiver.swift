import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The test's side of NOTIFY_SOCKET (shared by the SystemdNotify unit tests and the end-to-end tests): a bound AF_UNIX datagram socket (a path in a fresh temporary
/// directory, or an abstract name), read without blocking so the cooperative pool stays free.
public final class DatagramReceiver: @unchecked Sendable {
    // @unchecked: one test owns each receiver.
    public struct Timeout: Error, CustomStringConvertible {
        var waitingFor: String
        var received: [String]
        public var description: String { "no datagram \(waitingFor) arrived; received: \(received)" }
    }

    /// The value for NOTIFY_SOCKET.
    public let address: String
    private let fd: Int32
    private let directory: String?
    public private(set) var received: [String] = []

    public init(abstract: Bool = false) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        let pathBytes: [UInt8]
        if abstract {
            let name = "spoold-notify-test-\(UUID().uuidString)"
            address = "@" + name
            pathBytes = [0] + Array(name.utf8)
            directory = nil
        } else {
            var template = Array((NSTemporaryDirectory() + "/spoold-notify-XXXXXX").utf8CString)
            guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
                throw POSIXError(.init(rawValue: errno) ?? .EIO)
            }
            directory = String(cString: made)
            address = directory! + "/notify"
            pathBytes = Array(address.utf8)
        }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { $0.copyBytes(from: pathBytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + pathBytes.count)
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    }

    deinit {
        close(fd)
        if let directory {
            unlink(directory + "/notify")
            rmdir(directory)
        }
    }

    /// Reads every datagram until one satisfies `matches`; returns it. Earlier ones stay in `received`.
    public func next(
        _ what: String, timeout: Duration = .seconds(30), where matches: (String) -> Bool
    ) async throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout.scaledDeadline)
        while true {
            while let datagram = try readOne() {
                received.append(datagram)
                if matches(datagram) { return datagram }
            }
            guard clock.now < deadline else { throw Timeout(waitingFor: what, received: received) }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Whatever is queued now, without waiting.
    public func drain() throws -> [String] {
        var datagrams: [String] = []
        while let datagram = try readOne() { datagrams.append(datagram) }
        received += datagrams
        return datagrams
    }

    private func readOne() throws -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count >= 0 { return String(decoding: buffer[..<count], as: UTF8.self) }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return nil }
        throw POSIXError(.init(rawValue: errno) ?? .EIO)
    }
}
