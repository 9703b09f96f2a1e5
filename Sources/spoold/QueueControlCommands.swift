#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import MakeCall
import SpoolControl
import SpoolObservability
import Spooler
import SpooldConfig

/// What the three queue-control commands share: the spool, and the request to the daemon on it.
struct ControlTarget: ParsableArguments {
    @Option(help: "The spool root the daemon runs on (default \(SpooldSettings.Defaults.spoolDir)); its control socket is <spool-dir>/.spoold.control.")
    var spoolDir: String?

    func validate() throws {
        if let spoolDir, spoolDir.isEmpty { throw ValidationError("--spool-dir must not be empty") }
    }

    var spool: String { spoolDir ?? SpooldSettings.Defaults.spoolDir }

    /// Sends one request; says clearly, and exits 1, when no spoold runs on the spool or it cannot be asked.
    func send(_ request: ControlRequest, command: String) throws -> ControlResponse {
        let path = ControlSocketService.path(spoolDirectory: spool)
        do {
            return try ControlClient.send(request, to: path)
        } catch .noDaemon(_, let code) {
            let reason: String
            switch try? DaemonProbe.probe(spoolDirectory: spool) {
            case .noLockFile?: reason = "no spoold runs on \(spool) (there is no \(spool)/.spoold.lock)"
            case .notHeld?: reason = "no spoold runs on \(spool) (nothing holds \(spool)/.spoold.lock)"
            case .running(let pid)?:
                reason = "spoold (pid \(pid)) runs on \(spool) but does not answer at \(path) (\(String(cString: strerror(code)))); it is starting or stopping, or could not create its control socket (see its log)"
            case nil: reason = "no spoold answers at \(path) (\(String(cString: strerror(code))))"
            }
            printError("spoold \(command): \(reason)")
            throw ExitCode.failure
        } catch {
            printError("spoold \(command): \(error)")
            throw ExitCode.failure
        }
    }
}

/// Names are names in outgoing/, not paths.
func validateNames(_ names: [String]) throws {
    for name in names where name.isEmpty || name.contains("/") {
        throw ValidationError("'\(name)' is not a call file name: give the name in <spool-dir>/outgoing, not a path")
    }
}

/// `spoold queue`: every file the running daemon knows.
struct QueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Lists every call file the spoold running on a spool knows, sorted by due time.",
        discussion: """
            One line per file: name, state (scheduled; due, waiting for a free slot; parked by a limit, \
            waiting for its trunk; held by a window, due when its calling window opens; in flight, attempt \
            n of m; checking after restart; finishing), due time \
            (UTC; for a call in flight, when the attempt started), attempts made of allowed, and channel. \
            Attempts and channel show ? for a file spoold has not read yet: it reads a file when it comes \
            due, and at start-up every file due later. Asks the daemon over <spool-dir>/.spoold.control. \
            Exits 0 when a spoold answered, 1 when none runs there.
            """
    )

    @OptionGroup var target: ControlTarget

    @Flag(help: "Print a JSON array, one object per file and line (due in epoch seconds and as due_utc; null where not known).")
    var json = false

    func run() throws {
        switch try target.send(.queue, command: "queue") {
        case .listing(let entries):
            print(json ? QueueListing.json(entries) : QueueListing.text(entries), terminator: "")
        case let other:
            printError("spoold queue: unexpected answer: \(other)")
            throw ExitCode.failure
        }
    }
}

/// `spoold cancel`: a waiting file finished at once; a call in flight hung up first.
struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancels call files: a waiting file is finished at once, a call in flight is hung up first.",
        discussion: """
            A cancelled file is finished with Status: Cancelled: archived to outgoing_done when it says \
            Archive: yes, deleted otherwise, and reported to the result log and the on_finish hook like any \
            finished file. A file whose call is in flight has the call hung up first (AMI Hangup on its \
            ChannelId) and is finished when the call has ended. A file that is finishing already, or whose \
            interrupted call is being looked for after a restart, is refused with the reason. Exits 0 when \
            every file was cancelled, 1 otherwise.
            """
    )

    @OptionGroup var target: ControlTarget

    @Argument(help: "The call files' names in <spool-dir>/outgoing.")
    var names: [String]

    func validate() throws {
        if names.isEmpty { throw ValidationError("give the names of the call files to cancel") }
        try validateNames(names)
    }

    func run() throws {
        var failed = false
        for name in names {
            switch try target.send(.cancel(name), command: "cancel") {
            case .done(let text): print("\(name): \(text)")
            case .unknown(let text), .refused(let text), .badRequest(let text):
                printError("spoold cancel: \(name): \(text)")
                failed = true
            case .listing:
                printError("spoold cancel: \(name): unexpected answer")
                failed = true
            }
        }
        if failed { throw ExitCode.failure }
    }
}

/// `spoold reschedule`: a waiting file's due time moved.
struct RescheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reschedule",
        abstract: "Moves a waiting call file's due time (its mtime), as mkcall's --at or --in say.",
        discussion: """
            The file's mtime is set to the new time, so the move survives a restart. Refused, with the \
            reason, for a file whose call is in flight or that is finishing. Exits 0 when the file was \
            moved, 1 otherwise.
            """
    )

    @OptionGroup var target: ControlTarget

    @Argument(help: "The call file's name in <spool-dir>/outgoing.")
    var name: String

    @Option(help: ArgumentHelp("Due at this time: epoch seconds or ISO 8601 with a zone (2026-11-23T07:30:00Z), as mkcall --at.", valueName: "time"))
    var at: String?

    @Option(name: .customLong("in"), help: ArgumentHelp("Due this long from now: 90s, 5m, 2h, 1h30m, as mkcall --in.", valueName: "duration"))
    var inDuration: String?

    func validate() throws {
        try validateNames([name])
        switch (at, inDuration) {
        case (nil, nil): throw ValidationError("give the new time with --at TIME or --in DURATION")
        case (_?, _?): throw ValidationError("give either --at or --in, not both")
        default: break
        }
        do {
            if let at { _ = try TimeSpec.epoch(fromAt: at) }
            if let inDuration { _ = try TimeSpec.seconds(fromIn: inDuration) }
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        let due: SpoolInstant
        if let at {
            due = SpoolInstant(seconds: try TimeSpec.epoch(fromAt: at))
        } else {
            due = SystemSpoolClock().now().adding(seconds: Int(try TimeSpec.seconds(fromIn: inDuration ?? "0s")))
        }
        switch try target.send(.reschedule(name, to: due), command: "reschedule") {
        case .done(let text): print("\(name): \(text)")
        case .unknown(let text), .refused(let text), .badRequest(let text):
            printError("spoold reschedule: \(name): \(text)")
            throw ExitCode.failure
        case .listing:
            printError("spoold reschedule: \(name): unexpected answer")
            throw ExitCode.failure
        }
    }
}
