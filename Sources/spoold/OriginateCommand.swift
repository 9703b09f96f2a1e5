#if canImport(Glibc)
import Glibc
#endif
import AMI
import ArgumentParser
import CallFile
import LogFormats
import Logging
import MakeCall
import Spooler
import SpoolerAMI

/// `spoold originate`: places one call through AMI right away, without the spool, and prints how it
/// unfolds. The call is described by mkcall's flags and goes through the same call-file model and
/// Originate mapping as a spooled file, so a call that works here works as a call file and vice versa.
struct OriginateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "originate",
        abstract: "Places one call through Asterisk's AMI at once and follows it to its end.",
        discussion: """
            The call flags are mkcall's; the file they describe is checked and mapped onto an async Originate \
            exactly as `spoold run` maps a call file (attempt 1, no retries). Prints one line per stage: \
            connected, queued, answered, failed (with Asterisk's reason code and text), hung up. Exits 0 when \
            the call was answered, 1 otherwise (refused, failed, not placed, no connection).
            """
    )

    @OptionGroup(title: "Call")
    var call: CallOptions

    @OptionGroup(title: "AMI connection")
    var ami: AMIConnectionOptions

    @Flag(help: "Stop following the call once it is answered instead of waiting for its hangup.")
    var finishAtAnswer = false

    @Flag(help: "Print the AMI messages sent and received to stderr (Secret and Key values masked).")
    var debug = false

    func validate() throws {
        // Retry and archive settings describe a spooled file's life; one call placed now has none.
        let spoolOnly = [
            call.maxRetries.map { _ in "--max-retries" }, call.retryTime.map { _ in "--retry-time" },
            call.archive ? "--archive" : nil, call.noAlwaysDelete ? "--no-always-delete" : nil,
        ].compactMap { $0 }
        if let flag = spoolOnly.first {
            throw ValidationError("\(flag) only applies to call files (mkcall); spoold originate places one attempt at once")
        }
        guard ami.hasCredentials else {
            throw ValidationError("spoold originate needs --ami-user and --ami-secret-file")
        }
    }

    func run() async throws {
        let originate: OriginateRequest
        let configuration: AMIConfiguration
        do {
            originate = try Self.originateRequest(for: call, channelId: Self.newChannelId())
            configuration = try ami.configuration()
        } catch {
            printError("originate: \(error)")
            throw ExitCode.failure
        }
        let level: Logger.Level = debug ? .trace : .error
        let logger = Logger(label: "spoold-originate", factory: { _ in FormattedLogHandler(format: .plain, level: level) })
        let answered: Bool
        do {
            answered = try await Self.place(originate, configuration: configuration, finishAtAnswer: finishAtAnswer, logger: logger)
        } catch {
            printError("originate: \(error)")
            throw ExitCode.failure
        }
        if !answered { throw ExitCode.failure }
    }

    /// The flags as a call file, read back by the spool's own parser, mapped as the engine maps attempt 1.
    static func originateRequest(for call: CallOptions, channelId: String) throws -> OriginateRequest {
        let parsed = CallFileParser.parse(try call.callFileBytes(), path: "the command line")
        if let rejection = parsed.rejection { throw OriginateFailure(description: "\(rejection.reason): \(rejection.detail)") }
        if let invalid = parsed.invalidReason { throw OriginateFailure(description: invalid) }
        guard let request = CallRequest(file: parsed.file, attempt: 1, channelId: channelId) else {
            throw OriginateFailure(description: "--channel: no valid channel")
        }
        return AMIBackend.originate(for: request)
    }

    /// Unique per run: two originates started in the same second from the same host must not share an id.
    static func newChannelId() -> String {
        let now = Int64(time(nil))
        return ChannelID.make(fileName: "originate-\(getpid())-\(UInt64.random(in: 0...UInt64.max))", startEpoch: now, attempt: 1)
    }

    /// Runs one connection, places the call once logged in, and prints each stage. True when answered.
    static func place(_ originate: OriginateRequest, configuration: AMIConfiguration, finishAtAnswer: Bool, logger: Logger) async throws -> Bool {
        let client = makeAMIConnection(configuration: configuration, eventLoopGroup: ProcessEventLoop.group, logger: logger)
        enum Ended: Sendable {
            case connection((any Error)?)
            case call(answered: Bool)
        }
        return try await withThrowingTaskGroup(of: Ended.self) { group in
            group.addTask {
                do {
                    try await client.runOnce()
                    return .connection(nil)
                } catch {
                    return .connection(error)
                }
            }
            group.addTask {
                // Throws the connection's error when it never logs in.
                try await client.waitUntilConnected()
                let over = configuration.transport == .tcp ? "" : " over HTTP"
                emit("connected: AMI\(client.serverVersion.map { " " + $0 } ?? "")\(over) at \(configuration.host):\(configuration.port)")
                return .call(answered: await follow(client.originate(originate), channelId: originate.channelId, finishAtAnswer: finishAtAnswer))
            }
            // The connection may end first (a drop after "queued"); the call's stream then still ends with
            // how far it got, so wait for it rather than for the connection.
            while let ended = try await group.next() {
                if case .call(let answered) = ended {
                    group.cancelAll()
                    return answered
                }
            }
            throw AMIConnectionError.closedByServer
        }
    }

    /// Prints each stage as it arrives. True once the call was answered, whatever follows.
    static func follow(_ stages: AsyncStream<OriginateStage>, channelId: String, finishAtAnswer: Bool) async -> Bool {
        var answered = false
        for await stage in stages {
            emit(describe(stage, channelId: channelId))
            if case .answered = stage {
                answered = true
                if finishAtAnswer { break }
            }
        }
        return answered
    }

    static func describe(_ stage: OriginateStage, channelId: String) -> String {
        switch stage {
        case .notSent(let message):
            return "not placed: \(message)"
        case .rejected(let message):
            return "rejected: \(message)"
        case .queued:
            return "queued: ChannelId \(channelId)"
        case .answered(let channel, _):
            return "answered: \(channel)"
        case .failed(let reason, let channel):
            return "failed: reason \(reason) (\(ReasonText.text(for: reason))) on \(channel)"
        case .hungUp(let cause, let causeText):
            return "hung up: cause \(cause.map(String.init) ?? "unknown") (\(causeText ?? "no text"))"
        case .connectionLost(let afterAnswer):
            return "connection lost after the call was \(afterAnswer ? "answered" : "queued"); it may still be up in Asterisk as \(channelId)"
        case .noResponse:
            return "failed: no response from Asterisk within WaitTime"
        }
    }

    /// One line on stdout at once, so a watcher sees each stage when it happens even through a pipe.
    static func emit(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0, errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }
}

struct OriginateFailure: Error, CustomStringConvertible {
    var description: String
}
