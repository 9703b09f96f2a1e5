/// `--metrics-listen`: `HOST:PORT`, `[IPV6]:PORT` or a bare `PORT` (then 127.0.0.1). Only IP literals
/// and `localhost` are accepted, so the address never depends on name resolution.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case badPort(String)
        case notLoopback(String)

        public var description: String {
            switch self {
            case .malformed(let text):
                return "'\(text)' is not an address: use HOST:PORT (an IP address or localhost), [IPV6]:PORT, or a port number"
            case .badPort(let text):
                return "'\(text)': the port must be a number from 0 to 65535 (0 picks a free one)"
            case .notLoopback(let host):
                return "\(host) is not a loopback address: metrics and status would be readable from the network. Listen on 127.0.0.1 or ::1 (and let a reverse proxy or an SSH tunnel reach it), or pass --metrics-allow-remote to accept this"
            }
        }
    }

    public static func parse(_ text: String, allowRemote: Bool = false) throws(ParseError) -> ListenAddress {
        let host: String
        let portText: Substring
        if text.allSatisfy(\.isNumber), !text.isEmpty {
            host = "127.0.0.1"
            portText = Substring(text)
        } else if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw .malformed(text)
            }
            host = String(text[text.index(after: text.startIndex)..<close])
            portText = text[text.index(close, offsetBy: 2)...]
            guard isIPv6(host) else { throw .malformed(text) }
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { throw .malformed(text) }
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
            guard host == "localhost" || isIPv4(host) else { throw .malformed(text) }
        }
        guard let port = Int(portText), (0...65535).contains(port), portText.allSatisfy(\.isNumber) else {
            throw .badPort(text)
        }
        let address = ListenAddress(host: host, port: port)
        if !allowRemote, !address.isLoopback { throw .notLoopback(host) }
        return address
    }

    public var isLoopback: Bool {
        if host == "localhost" || host == "::1" { return true }
        return host.split(separator: ".").first == "127" && Self.isIPv4(host)
    }

    /// As it is written back on a command line: IPv6 hosts in brackets.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    static func isIPv4(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isNumber) && Int(part)! <= 255
        }
    }

    static func isIPv6(_ host: String) -> Bool {
        host.contains(":") && host.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }
}
