import AMITestServer
import Foundation
import TestCertificates
import Testing
import TestSupport

/// The TLS flags of `spoold originate` and `spoold ami-ping`, against the test servers over TLS with a CA
/// made in the test.
@Suite("TLS flags of spoold originate and ami-ping")
struct TLSEndToEndTests {
    @Test("originate over TLS (manager port, or HTTPS): verified with --ami-tls-ca-file, answered; a wrong name refused with its cause",
          arguments: [false, true])
    func originateOverTLS(http: Bool) async throws {
        let spool = try TemporarySpool()
        let ca = try TestCertificateAuthority()
        let caFile = try ca.writeCAFile()
        defer { unlink(caFile) }
        var configuration = AMITestServerConfiguration(secret: "tls-secret")
        // No IP address in the certificate: the connection goes to 127.0.0.1, so only the server name
        // flag can make it match.
        configuration.tls = try ca.serverIdentity(names: ["localhost"]).serverTLS()
        let port: Int
        let stop: () async throws -> Void
        if http {
            let server = try await AMIHTTPTestServer.start(configuration: configuration)
            (port, stop) = (server.port, { try await server.stop() })
        } else {
            let server = try await AMITestServer.start(configuration: configuration)
            (port, stop) = (server.port, { try await server.stop() })
        }
        let secretFile = spool.root + "/ami.secret"
        do {
            try FileSystem.write(Array("tls-secret".utf8), to: secretFile, mode: 0o600)
            let base = ["originate", "--channel", "PJSIP/answer/20/20", "--app", "Echo", "--ami-port", "\(port)",
                        "--ami-user", "spoold", "--ami-secret-file", secretFile, "--ami-tls", "--ami-tls-ca-file", caFile]
                + (http ? ["--ami-transport", "http"] : [])
            let verified = try await ToolRun.run(BuiltProducts.spoold, base + ["--ami-tls-server-name", "localhost"])
            #expect(verified.status == 0, "\(verified)")
            #expect(verified.stdout.contains("answered: PJSIP/answer/20/20-"), "\(verified)")

            let wrongName = try await ToolRun.run(BuiltProducts.spoold, base + ["--ami-tls-server-name", "pbx.wrong.example"])
            #expect(wrongName.status == 1, "\(wrongName)")
            #expect(wrongName.stderr.contains("certificate does not match server name pbx.wrong.example"), "\(wrongName)")

            let withoutTLS = try await ToolRun.run(BuiltProducts.spoold, Array(base.filter { $0 != "--ami-tls" }))
            #expect(withoutTLS.status != 0)
            #expect(withoutTLS.stderr.contains("--ami-tls-ca-file needs --ami-tls"), "\(withoutTLS)")
        } catch {
            try? await stop()
            throw error
        }
        try await stop()
    }

    @Test("ami-ping over TLS: verified with --tls-ca-file; an expired certificate refused with its cause")
    func amiPingOverTLS() async throws {
        let spool = try TemporarySpool()
        let ca = try TestCertificateAuthority()
        let caFile = try ca.writeCAFile()
        defer { unlink(caFile) }
        let secretFile = spool.root + "/ami.secret"
        try FileSystem.write(Array("secret".utf8), to: secretFile, mode: 0o600)
        for expired in [false, true] {
            var configuration = AMITestServerConfiguration()
            configuration.tls = try (expired
                ? ca.serverIdentity(validFrom: Date() - 2 * 86_400, validUntil: Date() - 86_400)
                : ca.serverIdentity()).serverTLS()
            let server = try await AMITestServer.start(configuration: configuration)
            let run = try await ToolRun.run(BuiltProducts.spoold, [
                "ami-ping", "--host", "127.0.0.1", "--port", "\(server.port)", "--user", "spoold", "--secret-file", secretFile,
                "--tls", "--tls-ca-file", caFile,
            ])
            try await server.stop()
            if expired {
                #expect(run.status == 1, "\(run)")
                #expect(run.stderr.contains("ami-ping: TLS error: certificate has expired (not valid after"), "\(run)")
            } else {
                #expect(run.status == 0, "\(run)")
                #expect(run.stdout.hasPrefix("AMI version "), "\(run)")
            }
        }
    }
}
