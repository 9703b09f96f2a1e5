import Crypto

/// HTTP digest authentication (RFC 2617, MD5, `qop=auth`), which Asterisk asks for on `/arawman`: the
/// password never crosses the wire. Pure, so it is checked against the RFC's own example.
public enum HTTPDigest {
    /// What a `WWW-Authenticate: Digest …` header offers.
    public struct Challenge: Sendable, Equatable {
        public var realm: String
        public var nonce: String
        public var opaque: String?
        public var qop: [String]
        public var algorithm: String?
        /// The nonce expired but the credentials were right: answer the new nonce, do not give up.
        public var stale: Bool

        public init(realm: String, nonce: String, opaque: String? = nil, qop: [String] = ["auth"], algorithm: String? = "MD5", stale: Bool = false) {
            self.realm = realm
            self.nonce = nonce
            self.opaque = opaque
            self.qop = qop
            self.algorithm = algorithm
            self.stale = stale
        }

        /// Nil unless the header is a digest challenge with a realm and a nonce.
        public init?(header: String) {
            let trimmed = Substring(header).trimmingASCIISpaces()
            guard trimmed.lowercased().hasPrefix("digest ") else { return nil }
            let fields = HTTPDigest.parameters(trimmed.dropFirst("digest ".count))
            guard let realm = fields["realm"], let nonce = fields["nonce"] else { return nil }
            self.realm = realm
            self.nonce = nonce
            self.opaque = fields["opaque"]
            self.qop = (fields["qop"] ?? "").split(separator: ",").map { String($0.trimmingASCIISpaces()) }.filter { !$0.isEmpty }
            self.algorithm = fields["algorithm"]
            self.stale = fields["stale"]?.lowercased() == "true"
        }

        public var headerValue: String {
            var value = "Digest algorithm=MD5, realm=\"\(realm)\", nonce=\"\(nonce)\", qop=\"\(qop.joined(separator: ","))\""
            if let opaque { value += ", opaque=\"\(opaque)\"" }
            if stale { value += ", stale=true" }
            return value
        }
    }

    /// The `response` value: MD5(HA1:nonce:nc:cnonce:qop:HA2) with HA1 = MD5(user:realm:password) and
    /// HA2 = MD5(method:uri).
    public static func response(username: String, password: String, realm: String, nonce: String,
                                method: String, uri: String, nc: String, cnonce: String, qop: String) -> String {
        let ha1 = md5Hex("\(username):\(realm):\(password)")
        let ha2 = md5Hex("\(method):\(uri)")
        return md5Hex("\(ha1):\(nonce):\(nc):\(cnonce):\(qop):\(ha2)")
    }

    /// The `Authorization` header value answering `challenge` for one request. `nonceCount` counts the
    /// requests made with this nonce, from 1.
    public static func authorization(for challenge: Challenge, username: String, password: String,
                                     method: String, uri: String, nonceCount: Int, cnonce: String) -> String {
        let nc = ncString(nonceCount)
        let digest = response(username: username, password: password, realm: challenge.realm, nonce: challenge.nonce,
                              method: method, uri: uri, nc: nc, cnonce: cnonce, qop: "auth")
        var value = "Digest username=\"\(username)\", realm=\"\(challenge.realm)\", nonce=\"\(challenge.nonce)\", "
            + "uri=\"\(uri)\", qop=auth, nc=\(nc), cnonce=\"\(cnonce)\", response=\"\(digest)\""
        if let opaque = challenge.opaque { value += ", opaque=\"\(opaque)\"" }
        return value + ", algorithm=MD5"
    }

    /// Eight hex digits, as the RFC writes the nonce count.
    public static func ncString(_ count: Int) -> String {
        let digits = String(count, radix: 16)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    /// `key=value, key="quoted, value"` into a dictionary with lower-cased keys.
    public static func parameters(_ text: Substring) -> [String: String] {
        var fields: [String: String] = [:]
        var rest = text
        while true {
            rest = rest.drop { $0 == " " || $0 == "\t" || $0 == "," }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = rest[..<equals].trimmingASCIISpaces().lowercased()
            rest = rest[rest.index(after: equals)...].drop { $0 == " " || $0 == "\t" }
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                var end = rest.endIndex
                for index in rest.indices {
                    let character = rest[index]
                    if escaped { value.append(character); escaped = false; continue }
                    if character == "\\" { escaped = true; continue }
                    if character == "\"" { end = index; break }
                    value.append(character)
                }
                rest = end < rest.endIndex ? rest[rest.index(after: end)...] : rest[rest.endIndex...]
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = String(rest[..<end].trimmingASCIISpaces())
                rest = rest[end...]
            }
            fields[key] = value
        }
        return fields
    }

    static func md5Hex(_ text: String) -> String {
        Insecure.MD5.hash(data: Array(text.utf8)).map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
}
