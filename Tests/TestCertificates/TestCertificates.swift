#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A certificate authority made in the test, and server certificates it (or another CA) signs, for TLS
/// tests that need no files from outside: nothing here is ever trusted beyond the test that made it.
public struct TestCertificateAuthority: Sendable {
    public let name: String
    public let certificate: Certificate
    private let key: Certificate.PrivateKey

    public init(name: String = "spoold test CA") throws {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(name) }
        let now = Date()
        certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 86_400, issuer: subject, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        self.name = name
        self.key = Certificate.PrivateKey(key)
    }

    /// The CA's certificate as PEM, as `ami_tls_ca_file` holds it.
    public var pem: String {
        get throws { try certificate.serializeAsPEM().pemString }
    }

    /// Writes the CA's certificate to a new file in /tmp; returns its path.
    public func writeCAFile() throws -> String {
        var template = Array("/tmp/spoold-test-ca-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw TestCertificateError("mkstemp failed") }
        close(fd)
        let path = String(cString: template)
        try Data(try pem.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A server certificate for `names` (DNS names, and IP addresses written as such), valid from
    /// `validFrom` to `validUntil` (by default: an hour ago to a day from now).
    public func serverIdentity(names: [String] = ["localhost", "127.0.0.1"], validFrom: Date? = nil,
                               validUntil: Date? = nil) throws -> TestServerIdentity {
        let serverKey = P256.Signing.PrivateKey()
        let now = Date()
        let alternativeNames: [GeneralName] = names.map { name in
            if let bytes = Self.ipv4Bytes(name) { return .ipAddress(ASN1OctetString(contentBytes: bytes[...])) }
            return .dnsName(name)
        }
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(serverKey.publicKey),
            notValidBefore: validFrom ?? now - 3600, notValidAfter: validUntil ?? now + 86_400,
            issuer: certificate.subject, subject: try DistinguishedName { CommonName(names.first ?? "server") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(alternativeNames)
            },
            issuerPrivateKey: key)
        return TestServerIdentity(certificatePEM: try leaf.serializeAsPEM().pemString, keyPEM: serverKey.pemRepresentation)
    }

    static func ipv4Bytes(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".")
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }
}

/// A server's certificate and key, ready for a test server's TLS.
public struct TestServerIdentity: Sendable {
    public let certificatePEM: String
    public let keyPEM: String

    /// The server side of TLS with this identity.
    public func serverTLS() throws -> TLSConfiguration {
        let certificate = try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem)
        let key = try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
        return TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key))
    }
}

public struct TestCertificateError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
