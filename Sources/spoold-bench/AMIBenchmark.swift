import AMI
import AMITestServer
import ArgumentParser
import Foundation
import Logging
import NIOPosix

/// `spoold-bench ami`: Originate round trips per second over one connection to the in-process test
/// server, and the memory each pending Originate costs the client.
struct AMIBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ami",
        abstract: "AMI originate round trips per second (target ≥ 10,000/s) and bytes per pending originate (target ≤ 2 KiB)."
    )

    @Option(help: "Originates for the throughput run (answer outcome, each followed to its Hangup).") var originates = 50_000
    @Option(name: .customLong("in-flight"), help: "Most Originates in flight at once.") var inFlight = 1_000
    @Option(help: "Originates left pending (the server withholds their results) for the memory figure.") var pending = 10_000

    func run() async throws {
        var serverConfiguration = AMITestServerConfiguration()
        serverConfiguration.behaviour.recordOriginates = false
        let server = try await AMITestServer.start(configuration: serverConfiguration)
        let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var configuration = AMIConfiguration(host: "127.0.0.1", port: server.port, username: "spoold", secret: AMISecret("secret"))
        configuration.originateResponseMargin = .seconds(600)
        let client = AMIClient(configuration: configuration, eventLoopGroup: clientGroup,
                               logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
        let run = Task { try await client.run() }
        try await client.waitUntilConnected()

        _ = try await roundTrips(client, count: min(2_000, originates), prefix: "warm")
        let clock = ContinuousClock()
        let start = clock.now
        let completed = try await roundTrips(client, count: originates, prefix: "bench")
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("ami round trips: \(completed)/\(originates) originates answered and hung up in \(String(format: "%.3f", seconds)) s, up to \(inFlight) in flight, one connection")
        print("ami round trips per second: \(Int(Double(completed) / seconds)) (target ≥ 10000)")
        printFigure("ami: originate round trips, one connection", target: "≥ 10000/s",
                    result: "\(Int(Double(completed) / seconds))/s", pass: Double(completed) / seconds >= 10_000)

        server.setBehaviour { $0.withholdOriginateResults = true }
        let before = Self.residentBytes()
        var waiting: [AsyncStream<OriginateStage>.AsyncIterator] = []
        waiting.reserveCapacity(pending)
        for index in 0..<pending {
            waiting.append(client.originate(Self.request(id: "pending-\(index)")).makeAsyncIterator())
        }
        var queued = 0
        for index in waiting.indices where await waiting[index].next() == .queued { queued += 1 }
        let after = Self.residentBytes()
        let perOriginate = (after - before) / max(queued, 1)
        print("ami pending originates: \(queued)/\(pending) queued and waiting; RSS grew \(after - before) bytes")
        print("ami bytes per pending originate: \(perOriginate) (target ≤ 2048)")
        printFigure("ami: memory per pending originate", target: "≤ 2048 bytes",
                    result: "\(perOriginate) bytes", pass: perOriginate <= 2048)

        run.cancel()
        _ = try? await run.value
        withExtendedLifetime(waiting) {}
        try await server.stop()
        try await clientGroup.shutdownGracefully()
    }

    static func request(id: String) -> OriginateRequest {
        OriginateRequest(channel: "PJSIP/answer", context: "target", exten: "s", priority: 1, timeout: .seconds(30),
                         callerID: "\"Bench\" <1000>", variables: [AMIVariable(name: "AST_OUTGOING_ATTEMPT", value: "1")],
                         channelId: id)
    }

    /// Follows `count` Originates to their last stage with at most `inFlight` at a time; returns how many
    /// ended in a Hangup.
    func roundTrips(_ client: AMIClient, count: Int, prefix: String) async throws -> Int {
        await withTaskGroup(of: Bool.self) { group in
            var started = 0
            var hungUp = 0
            func startOne() {
                let stream = client.originate(Self.request(id: "\(prefix)-\(started)"))
                started += 1
                group.addTask {
                    var last: OriginateStage?
                    for await stage in stream { last = stage }
                    if case .hungUp = last { return true }
                    return false
                }
            }
            while started < min(inFlight, count) { startOne() }
            while let ok = await group.next() {
                if ok { hungUp += 1 }
                if started < count { startOne() }
            }
            return hungUp
        }
    }

    static func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
