#if canImport(Glibc)
import Glibc
#endif

/// Where `$NOTIFY_SOCKET` says systemd listens: an absolute path, or `@name` for a socket in the Linux
/// abstract namespace (the `@` stands for the leading NUL byte of the address).
public struct NotifySocketAddress: Sendable, Equatable, CustomStringConvertible {
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public var value: String
        public var reason: String
        public var description: String { "NOTIFY_SOCKET=\(value) is not usable: \(reason)" }
    }

    /// The bytes of `sun_path` as sent: for an abstract address a NUL and then the name, never a trailing NUL.
    public let pathBytes: [UInt8]
    public let description: String

    /// Room in `sockaddr_un.sun_path` (108 on Linux); a path also needs its terminating NUL.
    static let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)

    public init(_ value: String) throws(Invalid) {
        let bytes = Array(value.utf8)
        guard let first = bytes.first else { throw Invalid(value: value, reason: "it is empty") }
        guard !bytes.contains(0) else { throw Invalid(value: value, reason: "it holds a NUL byte") }
        switch first {
        case UInt8(ascii: "@"):
            guard bytes.count > 1 else { throw Invalid(value: value, reason: "the abstract name after '@' is empty") }
            guard bytes.count <= Self.capacity else {
                throw Invalid(value: value, reason: "longer than \(Self.capacity - 1) bytes")
            }
            pathBytes = [0] + bytes.dropFirst()
        case UInt8(ascii: "/"):
            guard bytes.count < Self.capacity else {
                throw Invalid(value: value, reason: "longer than \(Self.capacity - 1) bytes")
            }
            pathBytes = bytes
        default:
            throw Invalid(value: value, reason: "neither an absolute path nor an abstract '@name'")
        }
        description = value
    }

    /// Calls `body` with the address as a `sockaddr` and its exact length (for an abstract name the length
    /// decides where the name ends, so it must not count any padding).
    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            path.copyBytes(from: pathBytes)
        }
        let length = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + pathBytes.count
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(length)) }
        }
    }
}
