#if canImport(Glibc)
import Glibc
#endif
import Spooler
import Synchronization

/// One running on_finish command: `/bin/sh -c <command>` in a process group of its own, so that a
/// timeout reaches the whole pipeline the command started, not only the shell.
final class HookProcess: Sendable {
    let pid: pid_t
    /// Set once the child has exited and is about to be reaped: from then on its pid (and process group
    /// id) may belong to someone else, so no signal is sent any more.
    private let reaped = Mutex(false)

    private init(pid: pid_t) { self.pid = pid }

    /// Starts the command. Standard input is /dev/null; standard output and error go to spoold's standard
    /// error (the journal under systemd). Every signal starts with its default action and unblocked, since
    /// spoold ignores SIGTERM/SIGINT for its own shutdown handling and exec would pass that on. Descriptors
    /// other than 0-2 are closed, so no socket or spool file leaks into the hook.
    static func spawn(command: String, environment: [String]) throws(SystemError) -> HookProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, 2, 1)
        _ = Self.closeFrom?(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))

        let arguments: [String] = ["/bin/sh", "-c", command, "spoold-on-finish"]
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid = pid_t()
        let code = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, envp)
        guard code == 0 else { throw SystemError("posix_spawn /bin/sh", code) }
        return HookProcess(pid: pid)
    }

    /// glibc 2.34's `posix_spawn_file_actions_addclosefrom_np`, looked up at run time because Swift's Glibc
    /// module is imported without _GNU_SOURCE. Where it is missing, only close-on-exec descriptors are closed.
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let closeFrom: CloseFrom? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: CloseFrom.self)
    }()

    /// Blocks until the child exits, then reaps it; returns the raw wait status. Run it on a thread that
    /// may block (NIO's thread pool), never on the cooperative pool.
    func waitForExit() -> Int32 {
        var info = siginfo_t()
        // WNOWAIT: learn of the exit without reaping, so `signal` cannot race with pid reuse.
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        return reaped.withLock { reaped in
            reaped = true
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            return status
        }
    }

    /// Signals the child's process group, unless the child is already gone.
    func signal(_ number: Int32) {
        reaped.withLock { reaped in
            if !reaped { _ = kill(-pid, number) }
        }
    }

    enum Exit: Equatable {
        case exited(Int32)
        case signalled(Int32)

        init(waitStatus status: Int32) {
            self = status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signalled(status & 0x7f)
        }
    }
}
