import AMI
import ArgumentParser
import Foundation
import Logging

/// `spoold ami-ping`: logs in, prints the AMI version and one Ping's round-trip time. On failure prints
/// one line with the cause and exits 1. The secret is never printed.
struct AMIPingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ami-ping",
        abstract: "Log in to Asterisk's AMI and measure one Ping round trip."
    )

    @Option(help: "AMI host.") var host: String
    @Option(help: "AMI port (5038 plain, 5039 TLS by Asterisk's defaults).") var port = 5038
    @Option(help: "AMI username.") var user: String
    @Option(name: .customLong("secret-file"), help: "File holding the secret (a trailing newline is ignored).") var secretFile: String
    @Flag(help: "Connect with TLS, verifying the certificate.") var tls = false
    @Option(name: [.customLong("tls-ca-file"), .customLong("ca-file")], help: "With --tls: PEM file of the CA that signed Asterisk's certificate; the only CA trusted (default: the system's trust store).") var caFile: String?
    @Option(help: "With --tls: the name Asterisk's certificate must carry, when it is not --host (also sent as SNI).") var tlsServerName: String?
    @Flag(inversion: .prefixedNo, help: "With --tls: verify Asterisk's certificate (chain, validity, name). --no-tls-verify accepts any certificate: for tests only.") var tlsVerify = true
    @Flag(help: "Log in by MD5 challenge, so the secret never crosses the wire.") var md5 = false
    @Option(help: "Seconds allowed for connecting, logging in and the Ping.") var timeout: Double = 5

    func validate() throws {
        if !tls, caFile != nil || tlsServerName != nil || !tlsVerify {
            throw ValidationError("--tls-ca-file, --tls-server-name and --no-tls-verify need --tls")
        }
    }

    func run() async throws {
        do {
            let secret = try SecretFile.read(secretFile)
            var configuration = AMIConfiguration(host: host, port: port, username: user, secret: secret)
            configuration.useMD5 = md5
            configuration.useServerFilter = false
            if tls { configuration.tls = .init(caFile: caFile, verifyCertificate: tlsVerify, serverName: tlsServerName) }
            let limit = Duration.milliseconds(Int64(max(timeout, 0.001) * 1000))
            configuration.connectTimeout = limit
            configuration.responseTimeout = limit
            configuration.pingInterval = .seconds(3600)
            let (version, roundTrip) = try await Self.ping(configuration)
            print("AMI version \(version)")
            print("Ping round trip \(Self.milliseconds(roundTrip)) ms")
        } catch {
            FileHandle.standardError.write(Data("ami-ping: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    static func ping(_ configuration: AMIConfiguration) async throws -> (String, Duration) {
        let logger = Logger(label: "ami-ping", factory: { _ in SwiftLogNoOpLogHandler() })
        let client = AMIClient(configuration: configuration, eventLoopGroup: ProcessEventLoop.group, logger: logger)
        return try await withThrowingTaskGroup(of: (String, Duration)?.self) { group in
            group.addTask {
                try await client.runOnce()
                return nil
            }
            group.addTask {
                try await client.waitUntilConnected()
                let roundTrip = try await client.ping()
                return (client.serverVersion ?? "unknown", roundTrip)
            }
            while let result = try await group.next() {
                if let result {
                    group.cancelAll()
                    return result
                }
            }
            throw AMIConnectionError.closedByServer
        }
    }

    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let value = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        return String(format: "%.3f", value)
    }
}

/// Reads a secret from a file without following symlinks; one trailing line ending is dropped.
enum SecretFile {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func read(_ path: String) throws -> AMISecret {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw Failure(description: "cannot read secret file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 { throw Failure(description: "cannot read secret file \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            bytes += chunk[0..<count]
            if bytes.count > 4096 { throw Failure(description: "secret file \(path) is larger than 4 KiB") }
        }
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard !bytes.isEmpty else { throw Failure(description: "secret file \(path) is empty") }
        return AMISecret(String(decoding: bytes, as: UTF8.self))
    }
}
