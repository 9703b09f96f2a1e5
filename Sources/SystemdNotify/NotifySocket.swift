#if canImport(Glibc)
import Glibc
#endif

/// An unbound AF_UNIX datagram socket that sends sd_notify datagrams to one address.
final class NotifySocket: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var operation: String
        var code: Int32
        var description: String { "\(operation): \(String(cString: strerror(code))) (errno \(code))" }
    }

    let address: NotifySocketAddress
    private let fd: Int32

    init(address: NotifySocketAddress) throws(Failure) {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(operation: "socket(AF_UNIX, SOCK_DGRAM)", code: errno) }
        self.fd = fd
        self.address = address
    }

    deinit { close(fd) }

    /// One datagram, whole or not at all. sendto on one descriptor is safe from several threads.
    func send(_ bytes: [UInt8]) throws(Failure) {
        while true {
            let sent = address.withSockaddr { target, length in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), target, length) }
            }
            if sent >= 0 { return }
            if errno == EINTR { continue }
            throw Failure(operation: "send to \(address)", code: errno)
        }
    }
}
