import AMI
import AMITestServer
import Foundation
import Logging
import NIOSSL
import TestCertificates
import TestSupport
import X509
import Testing

/// TLS to AMI over both transports (the manager port as 5039 does it, HTTPS as 8089 does), against the
/// test servers with a CA and certificates made here: a verified login and an answered call, and each
/// refusal named by its cause.
@Suite("TLS to AMI, verified")
struct TLSTests {
    enum Transport: String, CaseIterable, CustomStringConvertible {
        case tcp, http
        var description: String { rawValue }
    }

    /// A running test server of either kind, speaking TLS with `identity`.
    struct Server {
        let port: Int
        let originates: @Sendable () -> [OriginateRecord]
        let stop: @Sendable () async throws -> Void

        static func start(_ transport: Transport, identity: TestServerIdentity) async throws -> Server {
            var configuration = AMITestServerConfiguration(authenticationFailureDelay: .milliseconds(10))
            configuration.tls = try identity.serverTLS()
            switch transport {
            case .tcp:
                let server = try await AMITestServer.start(configuration: configuration)
                return Server(port: server.port, originates: { server.originates }, stop: { try await server.stop() })
            case .http:
                let server = try await AMIHTTPTestServer.start(configuration: configuration)
                return Server(port: server.port, originates: { server.originates }, stop: { try await server.stop() })
            }
        }
    }

    static func configuration(_ transport: Transport, port: Int, tls: AMIConfiguration.TLS) -> AMIConfiguration {
        var configuration = AMIConfiguration(host: "127.0.0.1", port: port, username: "spoold", secret: AMISecret("secret"))
        if transport == .http { configuration.transport = .http(AMIConfiguration.HTTP(waitEventTimeout: .seconds(5))) }
        configuration.tls = tls
        configuration.responseTimeout = Duration.seconds(10).scaledDeadline
        configuration.connectTimeout = Duration.seconds(5).scaledDeadline
        configuration.originateResponseMargin = Duration.seconds(10).scaledDeadline
        return configuration
    }

    static let logger = Logger(label: "tls-test") { _ in SwiftLogNoOpLogHandler() }

    @Test("A certificate of the configured CA: logged in, and a call answered",
          arguments: Transport.allCases, [nil, "localhost"] as [String?])
    func verifiedLoginAndAnsweredCall(transport: Transport, serverName: String?) async throws {
        let ca = try TestCertificateAuthority()
        let caFile = try ca.writeCAFile()
        defer { unlink(caFile) }
        let server = try await Server.start(transport, identity: try ca.serverIdentity())
        let configuration = Self.configuration(transport, port: server.port, tls: .init(caFile: caFile, serverName: serverName))
        let client = makeAMIConnection(configuration: configuration, logger: Self.logger)
        let run = Task { try await client.runOnce() }
        do {
            try await client.waitUntilConnected()
            var stages: [OriginateStage] = []
            let request = OriginateRequest(channel: "PJSIP/answer/10/10", application: "Wait", data: "1", timeout: .seconds(5), channelId: "tls-\(transport)")
            for await stage in client.originate(request) { stages.append(stage) }
            #expect(stages.first == .queued, "\(stages)")
            #expect(stages.contains { if case .answered = $0 { true } else { false } }, "\(stages)")
            #expect(server.originates().count == 1)
        } catch {
            run.cancel()
            _ = await run.result
            try await server.stop()
            throw error
        }
        run.cancel()
        _ = await run.result
        try await server.stop()
    }

    enum Refusal: String, CaseIterable, CustomStringConvertible {
        case otherCA, expired, wrongName
        var description: String { rawValue }
    }

    @Test("A refused certificate fails the login with its cause named", arguments: Transport.allCases, Refusal.allCases)
    func refused(transport: Transport, refusal: Refusal) async throws {
        let ca = try TestCertificateAuthority()
        let caFile = try ca.writeCAFile()
        defer { unlink(caFile) }
        let identity: TestServerIdentity
        var serverName: String? = "localhost"
        let expected: [String]
        switch refusal {
        case .otherCA:
            identity = try TestCertificateAuthority(name: "someone else's CA").serverIdentity()
            expected = ["unknown CA", "CN=someone else's CA", "not signed by the configured CA (\(caFile))"]
        case .expired:
            identity = try ca.serverIdentity(validFrom: Date() - 2 * 86_400, validUntil: Date() - 86_400)
            expected = ["certificate has expired", "not valid after"]
        case .wrongName:
            // No IP address in it: NIOSSL accepts a certificate naming the connected address whatever
            // the server name.
            identity = try ca.serverIdentity(names: ["pbx.example.org"])
            serverName = "pbx.wrong.example"
            expected = ["certificate does not match server name pbx.wrong.example"]
        }
        let server = try await Server.start(transport, identity: identity)
        let configuration = Self.configuration(transport, port: server.port, tls: .init(caFile: caFile, serverName: serverName))
        let client = makeAMIConnection(configuration: configuration, logger: Self.logger)
        let run = Task { try await client.runOnce() }
        do {
            // Throws the run's error when the login never happens.
            try await client.waitUntilConnected()
            Issue.record("logged in over TLS with a certificate that must be refused (\(refusal))")
        } catch let error as AMIConnectionError {
            if case .tls = error {
                for text in expected {
                    #expect("\(error)".contains(text), "\(error)")
                }
            } else {
                Issue.record("not refused as a TLS error: \(error)")
            }
        }
        run.cancel()
        _ = await run.result
        #expect(server.originates().isEmpty)
        try await server.stop()
    }

    @Test("Verification off (tests only): the same refused certificate is accepted", arguments: Transport.allCases)
    func verificationOff(transport: Transport) async throws {
        let identity = try TestCertificateAuthority(name: "unknown CA").serverIdentity(names: ["elsewhere.example"])
        let server = try await Server.start(transport, identity: identity)
        let configuration = Self.configuration(transport, port: server.port, tls: .init(verifyCertificate: false))
        let client = makeAMIConnection(configuration: configuration, logger: Self.logger)
        let run = Task { try await client.runOnce() }
        try await client.waitUntilConnected()
        #expect(client.isConnected)
        run.cancel()
        _ = await run.result
        try await server.stop()
    }

    @Test("The cause of a refusal, decided from the certificate, the clock and the CA")
    func causeOfARefusal() throws {
        let ca = try TestCertificateAuthority()
        let other = try TestCertificateAuthority(name: "other CA")
        func leaf(_ identity: TestServerIdentity) throws -> Certificate { try Certificate(pemEncoded: identity.certificatePEM) }
        let now = Date()
        let good = try leaf(ca.serverIdentity())
        #expect(AMITLSDiagnosis.cause(of: good, trusted: [ca.certificate], caFile: "/ca.pem", now: now).contains("was not accepted though"))
        #expect(AMITLSDiagnosis.cause(of: good, trusted: [other.certificate], caFile: "/ca.pem", now: now)
            == "unknown CA: the certificate, issued by CN=spoold test CA, is not signed by the configured CA (/ca.pem)")
        #expect(AMITLSDiagnosis.cause(of: good, trusted: nil, caFile: nil, now: now).hasPrefix("unknown CA: the certificate, issued by CN=spoold test CA, is not signed by a CA the system trusts"))
        #expect(AMITLSDiagnosis.cause(of: good, trusted: [ca.certificate], caFile: "/ca.pem", now: now + 2 * 86_400).hasPrefix("certificate has expired (not valid after "))
        #expect(AMITLSDiagnosis.cause(of: good, trusted: [ca.certificate], caFile: "/ca.pem", now: now - 86_400).hasPrefix("certificate is not valid yet"))
    }
}
