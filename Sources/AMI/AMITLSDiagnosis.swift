import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import X509

/// Why Asterisk's certificate was refused, in words an administrator can act on. BoringSSL decides
/// (full verification: chain, validity, name); when it refuses the chain it only says
/// `CERTIFICATE_VERIFY_FAILED`, so the cause is then looked up: the certificate is fetched once more on a
/// connection that checks nothing and sends nothing, and compared with the clock and the trusted CAs.
/// The verdict stays BoringSSL's; this only names it.
public enum AMITLSDiagnosis {
    /// A connection's error with a TLS failure named; any other error as it is.
    static func explained(_ error: AMIConnectionError, _ configuration: AMIConfiguration,
                          eventLoopGroup: any EventLoopGroup) async -> AMIConnectionError {
        guard case .tls(let detail) = error, let tls = configuration.tls else { return error }
        return .tls(await explain(detail, tls: tls, host: configuration.host, port: configuration.port,
                                  connectTimeout: configuration.connectTimeout, eventLoopGroup: eventLoopGroup))
    }

    /// The text for a TLS error (`detail`, as NIOSSL described it) of a connection to `host`. Asks the
    /// server again only for a refused chain.
    static func explain(
        _ detail: String, tls: AMIConfiguration.TLS, host: String, port: Int, connectTimeout: Duration,
        eventLoopGroup: any EventLoopGroup
    ) async -> String {
        let serverName = tls.serverName ?? host
        if detail.contains("failedToValidateHostname") {
            return nameMismatch(serverName)
        }
        guard tls.verifyCertificate, detail.contains("CERTIFICATE_VERIFY_FAILED") else { return detail }
        guard let leaf = try? await fetchCertificate(host: host, port: port, serverName: serverName,
                                                     timeout: connectTimeout, eventLoopGroup: eventLoopGroup)
        else {
            return "the server's certificate was not accepted (\(detail))"
        }
        let trusted = tls.caFile.flatMap { try? NIOSSLCertificate.fromPEMFile($0) }?
            .compactMap { try? Certificate(derEncoded: $0.toDERBytes()) }
        return cause(of: leaf, trusted: trusted, caFile: tls.caFile, now: Date())
    }

    static func nameMismatch(_ serverName: String) -> String {
        "certificate does not match server name \(serverName) (set ami_tls_server_name to the name the certificate carries)"
    }

    /// What is wrong with a certificate that was refused. `trusted`: the CA file's certificates, nil when
    /// the system's trust store is used.
    public static func cause(of leaf: Certificate, trusted: [Certificate]?, caFile: String?, now: Date) -> String {
        if now > leaf.notValidAfter {
            return "certificate has expired (not valid after \(timestamp(leaf.notValidAfter)))"
        }
        if now < leaf.notValidBefore {
            return "certificate is not valid yet (not valid before \(timestamp(leaf.notValidBefore)))"
        }
        let issuer = String(describing: leaf.issuer)
        guard let trusted, let caFile else {
            return "unknown CA: the certificate, issued by \(issuer), is not signed by a CA the system trusts (set ami_tls_ca_file to the CA that signed it)"
        }
        let signedByTrusted = trusted.contains { ca in
            ca.subject == leaf.issuer && ca.publicKey.isValidSignature(leaf.signature, for: leaf)
        }
        if !signedByTrusted {
            return "unknown CA: the certificate, issued by \(issuer), is not signed by the configured CA (\(caFile))"
        }
        return "the certificate, issued by \(issuer), was not accepted though it is signed by a CA of \(caFile) and in date"
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// The server's leaf certificate, from a handshake that verifies nothing; nothing else is sent.
    static func fetchCertificate(
        host: String, port: Int, serverName: String, timeout: Duration, eventLoopGroup: any EventLoopGroup
    ) async throws -> Certificate? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        let context = try NIOSSLContext(configuration: configuration)
        let sni = AMIClient.isIPAddress(serverName) ? nil : serverName
        let loop = eventLoopGroup.next()
        let handshake = loop.makePromise(of: Void.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(TimeAmount(timeout))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: sni))
                        try channel.pipeline.syncOperations.addHandler(HandshakeWaiter(promise: handshake))
                    }
                }
                .connect(host: host, port: port)
                .get()
        } catch {
            handshake.fail(error)
            throw error
        }
        let deadline = loop.scheduleTask(in: TimeAmount(timeout)) { handshake.fail(ChannelError.connectTimeout(TimeAmount(timeout))) }
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        try await handshake.futureResult.get()
        guard let peer = try await channel.nioSSL_peerCertificate().get() else { return nil }
        return try Certificate(derEncoded: peer.toDERBytes())
    }

    private final class HandshakeWaiter: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        private let promise: EventLoopPromise<Void>

        init(promise: EventLoopPromise<Void>) { self.promise = promise }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? TLSUserEvent, case .handshakeCompleted = event { promise.succeed(()) }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.fail(ChannelError.ioOnClosedChannel)
            context.fireChannelInactive()
        }
    }
}
