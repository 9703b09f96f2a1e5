#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import SpoolObservability

/// `spoold status`: what the running daemon is doing, from its status file or its metrics endpoint.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Shows what the spoold running on a spool is doing: queue, calls in flight, servers, totals.",
        discussion: """
            With --spool-dir (the default), spoold status checks that a spoold holds <spool-dir>/.spoold.lock \
            (as /proc/locks lists it; it never takes the lock itself) and reads the figures that daemon writes \
            to <spool-dir>/.spoold.status about once a second. With --metrics-listen it asks the daemon's \
            metrics endpoint for /status instead, which also works from another machine or container. \
            Exits 0 when a spoold answered, 1 when none runs there.
            """
    )

    @Option(help: "The spool root the daemon runs on.")
    var spoolDir: String?

    @Option(help: ArgumentHelp("Ask the daemon's metrics endpoint (its --metrics-listen address) instead.", valueName: "addr:port"))
    var metricsListen: String?

    @Flag(help: "Print the status as JSON (the daemon's snapshot; times in epoch seconds).")
    var json = false

    func validate() throws {
        if spoolDir != nil, metricsListen != nil {
            throw ValidationError("give either --spool-dir or --metrics-listen, not both")
        }
        if let metricsListen {
            do {
                _ = try ListenAddress.parse(metricsListen, allowRemote: true)
            } catch {
                throw ValidationError("--metrics-listen: \(error)")
            }
        }
    }

    func run() async throws {
        let snapshot: StatusSnapshot
        if let metricsListen {
            do {
                snapshot = try await StatusRequest.fetch(from: try ListenAddress.parse(metricsListen, allowRemote: true),
                                                         group: ProcessEventLoop.group)
            } catch {
                printError("spoold status: \(error)")
                throw ExitCode.failure
            }
        } else {
            snapshot = try readFromSpool(spoolDir ?? "/var/spool/asterisk")
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(snapshot), as: UTF8.self))
        } else {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            print(snapshot.summary(now: Double(now.tv_sec) + Double(now.tv_nsec) / 1e9), terminator: "")
        }
    }

    func readFromSpool(_ spool: String) throws -> StatusSnapshot {
        let answer: DaemonProbe.Answer
        do {
            answer = try DaemonProbe.probe(spoolDirectory: spool)
        } catch {
            printError("spoold status: cannot tell whether a spoold runs on \(spool): \(error)")
            throw ExitCode.failure
        }
        let pid: Int
        switch answer {
        case .noLockFile:
            printError("spoold status: no spoold runs on \(spool) (there is no \(spool)/.spoold.lock)")
            throw ExitCode.failure
        case .notHeld:
            printError("spoold status: no spoold runs on \(spool) (nothing holds \(spool)/.spoold.lock)")
            throw ExitCode.failure
        case .running(let holder):
            pid = holder
        }
        let file = StatusFile(spoolDirectory: spool)
        let snapshot: StatusSnapshot
        do {
            snapshot = try file.read()
        } catch {
            printError("spoold status: spoold (pid \(pid)) runs on \(spool) but its status cannot be read (\(error)); it is starting or stopping, or cannot write \(file.path)")
            throw ExitCode.failure
        }
        // A crash leaves the last daemon's file behind until the new one writes its own.
        if pid > 0, snapshot.pid != pid {
            printError("spoold status: spoold (pid \(pid)) runs on \(spool) but has not written its status yet (\(file.path) is from pid \(snapshot.pid))")
            throw ExitCode.failure
        }
        return snapshot
    }
}
