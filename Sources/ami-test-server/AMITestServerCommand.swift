import AMITestServer
import ArgumentParser
import Foundation

/// Runs the AMI test server until killed, for end-to-end tests and benchmarks.
@main
struct AMITestServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ami-test-server",
        abstract: "An AMI server that answers like Asterisk 22, with scripted call outcomes.",
        discussion: """
        Channel `<Tech>/<outcome>[/<ring-ms>[/<talk-ms>]]` picks the result: answer, busy, congestion, \
        noanswer, failure (Reason 4, 5, 8, 3, 0). Context `nonexistent` gives `Extension does not exist.`. \
        Prints `listening on <host>:<port>` once ready.
        """
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free one.") var port = 5038
    @Option(help: "The one AMI user.") var user = "spoold"
    @Option(help: "That user's secret.") var secret = "secret"
    @Option(name: .customLong("auth-failure-delay-ms"), help: "Delay before `Authentication failed`.") var authFailureDelay = 1000
    @Option(name: .customLong("response-delay-ms"), help: "Delay before every response.") var responseDelay = 0
    @Flag(name: .customLong("shutting-down"), help: "Answer every action with `Asterisk is shutting down`.") var shuttingDown = false
    @Flag(name: .customLong("silent-after-login"), help: "Stop answering once a client logged in.") var silentAfterLogin = false
    @Flag(name: .customLong("withhold-results"), help: "Queue Originates but never send their results.") var withholdResults = false
    @Flag(name: .customLong("no-filter-permission"), help: "Refuse the Filter action.") var noFilterPermission = false
    @Flag(name: .customLong("no-originate-permission"), help: "Refuse Originate with `Permission denied`.") var noOriginatePermission = false
    @Flag(name: .customLong("system-permission"), help: "Allow blacklisted applications and data.") var systemPermission = false
    @Option(name: .customLong("disconnect-after"), help: "Close a connection after it queued this many Originates.") var disconnectAfter: Int?
    @Option(name: .customLong("loaded-module"), help: "Report this module (without .so) as loaded to ModuleCheck; repeatable. Needs --system-permission, as in Asterisk.") var loadedModules: [String] = []
    @Option(name: .customLong("record-file"), help: "Append every Originate received to this file as a JSON line.") var recordFile: String?

    func run() async throws {
        var behaviour = AMITestServerConfiguration.Behaviour()
        behaviour.shuttingDown = shuttingDown
        behaviour.silentAfterLogin = silentAfterLogin
        behaviour.withholdOriginateResults = withholdResults
        behaviour.filterPermitted = !noFilterPermission
        behaviour.originatePermitted = !noOriginatePermission
        behaviour.systemPermitted = systemPermission
        behaviour.disconnectAfterQueued = disconnectAfter
        behaviour.loadedModules = Set(loadedModules)
        behaviour.responseDelay = .milliseconds(responseDelay)
        // A long-running server must not grow without bound; the file is the record here.
        behaviour.recordOriginates = false
        let configuration = AMITestServerConfiguration(
            host: host, port: port, username: user, secret: secret,
            authenticationFailureDelay: .milliseconds(authFailureDelay), behaviour: behaviour
        )
        var onOriginate: (@Sendable (OriginateRecord) -> Void)?
        if let recordFile {
            let file = try JSONLinesFile(path: recordFile)
            onOriginate = { record in file.append(record) }
        }
        let server = try await AMITestServer.start(configuration: configuration, onOriginate: onOriginate)
        // Written straight to the descriptor so a parent reading a pipe sees it at once.
        FileHandle.standardOutput.write(Data("listening on \(host):\(server.port)\n".utf8))
        while !Task.isCancelled {
            try await Task.sleep(for: .seconds(3600))
        }
    }
}

/// Appends JSON lines with one write each, so a killed server leaves only whole lines.
final class JSONLinesFile: Sendable {
    let descriptor: Int32

    init(path: String) throws {
        descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ValidationError("cannot open record file \(path): \(String(cString: strerror(errno)))")
        }
    }

    func append(_ record: OriginateRecord) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var line = try? encoder.encode(record) else { return }
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    deinit {
        close(descriptor)
    }
}
