import AMITestServer
import Foundation
import TestSupport
import Testing

/// The in-process test AMI server on an ephemeral loopback port, and the `spoold run --backend ami` flags
/// that reach it. The secret goes into a file (mode 0600), never onto the command line.
struct AMIHarness {
    let server: AMITestServer
    let secretFile: String

    static func start(spool: TemporarySpool, behaviour: AMITestServerConfiguration.Behaviour = .init()) async throws -> AMIHarness {
        let configuration = AMITestServerConfiguration(
            username: "spoold", secret: "e2e-secret-\(UUID().uuidString.prefix(6))",
            authenticationFailureDelay: .milliseconds(50), behaviour: behaviour)
        let server = try await AMITestServer.start(configuration: configuration)
        let secretFile = spool.root + "/ami.secret"
        try FileSystem.write(Array(configuration.secret.utf8), to: secretFile, mode: 0o600)
        return AMIHarness(server: server, secretFile: secretFile)
    }

    var spooldArguments: [String] {
        ["--ami-host", "127.0.0.1", "--ami-port", "\(server.port)", "--ami-user", server.configuration.username,
         "--ami-secret-file", secretFile]
    }

    /// The Originates the server received for one call file's channel.
    func originates(channel: String) -> [OriginateRecord] {
        server.originates.filter { $0.channel == channel }
    }
}

extension OriginateRecord {
    /// Every value of a header, in order (Variable repeats).
    func values(_ name: String) -> [String] {
        headers.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
    }

    func value(_ name: String) -> String? { values(name).first }
}

/// Runs `body` with a test AMI server and a spoold that uses it; stops both afterwards.
func withAMISpoold<T>(
    spool: TemporarySpool,
    behaviour: AMITestServerConfiguration.Behaviour = .init(),
    arguments: [String] = [],
    _ body: (AMIHarness, SpooldProcess) async throws -> T
) async throws -> T {
    let ami = try await AMIHarness.start(spool: spool, behaviour: behaviour)
    do {
        let result = try await withSpoold(spool: spool, arguments: ami.spooldArguments + arguments, backend: "ami") {
            try await body(ami, $0)
        }
        try await ami.server.stop()
        return result
    } catch {
        try? await ami.server.stop()
        throw error
    }
}
