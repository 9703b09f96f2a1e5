import Subprocess
import Synchronization

/// One on_finish command run through swift-subprocess: `/bin/sh -c <command>` in a process group of its
/// own, so that a timeout reaches the whole pipeline the command started, not only the shell.
///
/// swift-subprocess does what spoold did by hand before: standard input is /dev/null, every descriptor
/// above 2 is closed in the child (no socket or spool file leaks into the hook), every signal starts with
/// its default action and unblocked (spoold ignores SIGTERM/SIGINT for its own shutdown handling, and exec
/// would pass that on), the environment is exactly the one given, and the exit is awaited without
/// blocking a thread. Standard output and error go to spoold's standard error (the journal under systemd).
enum HookProcess {
    enum Outcome: Equatable, Sendable {
        /// The command ended by itself within the timeout.
        case finished(Exit)
        /// The command was still running at the timeout and was stopped: SIGTERM to its process group,
        /// SIGKILL to the group `killGrace` later if it had not ended by then.
        case timedOut(Exit)
        /// The task running the hook was cancelled (spoold stopping without a graceful shutdown): the
        /// command was stopped the same way.
        case cancelled(Exit)
    }

    enum Exit: Equatable, Sendable {
        case exited(Int32)
        case signalled(Int32)

        init(_ status: TerminationStatus) {
            switch status {
            case .exited(let code): self = .exited(code)
            case .signaled(let number): self = .signalled(number)
            }
        }
    }

    /// Runs the command to its end, or stops it at `timeout`. `onTimeout` is called once with the shell's
    /// pid when the timeout strikes, before the group is signalled. If the calling task is cancelled the
    /// same teardown (SIGTERM to the group, SIGKILL after `killGrace`) ends the command.
    ///
    /// `environment` holds whole `NAME=value` entries as bytes; an entry with a NUL in it is refused by
    /// swift-subprocess, so the caller removes NULs first.
    static func run(command: String, environment: [[UInt8]], timeout: Duration, killGrace: Duration,
                    onTimeout: @escaping @Sendable (_ pid: Int32) -> Void) async throws -> Outcome {
        var options = PlatformOptions()
        // 0: a new process group whose id is the shell's pid, so the teardown's signals reach its children.
        options.processGroupID = 0
        // Used when the task running the hook is cancelled; swift-subprocess ends the sequence with SIGKILL
        // to the same process group.
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: killGrace)]
        let configuration = Configuration(
            executable: .path("/bin/sh"),
            arguments: ["-c", command, "spoold-on-finish"],
            environment: .custom(environment.map { $0 + [0] }),
            platformOptions: options
        )
        let pid = ShellPID()
        enum Event: Sendable {
            case ended(TerminationStatus)
            case timeout
            /// The task running the hook was cancelled: swift-subprocess tears the command down.
            case cancelled
        }
        return try await withThrowingTaskGroup(of: Event.self) { group in
            group.addTask {
                let status = try await Subprocess.run(configuration, input: .none, output: .currentStandardError,
                                                      error: .currentStandardError) { execution in
                    pid.value.store(execution.processIdentifier.value, ordering: .relaxed)
                }.terminationStatus
                return .ended(status)
            }
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                    return .timeout
                } catch {
                    return .cancelled
                }
            }
            var stoppedBy: Event?
            while let event = try await group.next() {
                switch event {
                case .ended(let status):
                    group.cancelAll()
                    switch stoppedBy {
                    case .timeout: return .timedOut(Exit(status))
                    case .cancelled: return .cancelled(Exit(status))
                    case .ended, nil: return .finished(Exit(status))
                    }
                case .timeout:
                    stoppedBy = .timeout
                    onTimeout(pid.value.load(ordering: .relaxed))
                    // Cancelling the command's task starts its teardown sequence.
                    group.cancelAll()
                case .cancelled:
                    // Cancelled from outside: the command's task is cancelled too and tears it down;
                    // its end is still awaited, so no child outlives this call.
                    if stoppedBy == nil { stoppedBy = .cancelled }
                }
            }
            throw CancellationError()
        }
    }
}

/// The shell's pid, learnt once it runs, for the timeout's log line (0 until then).
private final class ShellPID: Sendable {
    let value = Atomic<Int32>(0)
}

extension HookProcess.Exit: CustomStringConvertible {
    var description: String {
        switch self {
        case .exited(let code): return "exit status \(code)"
        case .signalled(let number): return "killed by signal \(number)"
        }
    }
}
