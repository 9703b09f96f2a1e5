#if canImport(Glibc)
import Glibc
#endif

/// The client side of the control socket, for `spoold queue`, `cancel` and `reschedule`: one request per
/// connection, blocking (a command-line tool has nothing else to do meanwhile).
public enum ControlClient {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// Nothing listens at the socket (no file, or a socket nobody accepts on).
        case noDaemon(path: String, errno: Int32)
        /// The socket's permissions keep this user out.
        case notPermitted(path: String)
        case system(String)
        case badAnswer(String)

        public var description: String {
            switch self {
            case .noDaemon(let path, let code): "nothing answers at \(path) (\(String(cString: strerror(code))))"
            case .notPermitted(let path): "permission denied on \(path): only users who may write the spool may control it"
            case .system(let text): text
            case .badAnswer(let text): "spoold's answer cannot be read: \(text)"
            }
        }
    }

    /// Sends `request` to the spoold listening at `path` and returns its answer.
    public static func send(_ request: ControlRequest, to path: String) throws(Failure) -> ControlResponse {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw .system("\(path) is too long for a Unix socket path")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if connected != 0 {
            let code = errno
            switch code {
            case ENOENT, ECONNREFUSED, ENOTDIR: throw .noDaemon(path: path, errno: code)
            case EACCES, EPERM: throw .notPermitted(path: path)
            default: throw .system("connect \(path): \(String(cString: strerror(code)))")
            }
        }
        let bytes = ControlCodec.encode(request)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw .system("write to \(path): \(String(cString: strerror(errno)))") }
            sent += n
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw .system("read from \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            answer += chunk[..<n]
        }
        do {
            return try ControlCodec.decodeResponse(answer)
        } catch {
            throw .badAnswer(error.description)
        }
    }
}
