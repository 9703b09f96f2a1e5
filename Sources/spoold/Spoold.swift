import ArgumentParser
import BuildInfo
import NIOCore
import NIOPosix

struct Spoold: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spoold",
        abstract: "Processes Asterisk call files from outside Asterisk, dialling them through AMI.",
        version: BuildInfo.versionLine(command: "spoold"),
        subcommands: [RunCommand.self, CheckCommand.self, StatusCommand.self, QueueCommand.self, CancelCommand.self,
                      RescheduleCommand.self, AMIPingCommand.self, OriginateCommand.self],
        defaultSubcommand: nil
    )
}

/// The process's entry: the main thread becomes the process's one NIO event loop, and the command runs
/// as a task, exactly as `AsyncParsableCommand.main()` runs it (parse, run, exit with its status).
///
/// Why: with an `async` main, Swift hands the main thread to libdispatch, which parks it for good in
/// `sigsuspend` (`dispatch_main`), and NIO's singleton group starts a thread of its own for the sockets
/// (the control socket always, AMI, metrics). Running that loop on the otherwise idle main thread is the
/// same work on one thread fewer, under every backend. The loop does what the singleton's did; nothing
/// blocking runs on it.
@main
enum SpooldMain {
    static func main() {
        MultiThreadedEventLoopGroup.withCurrentThreadAsEventLoop { loop in
            // Detached: a task started here would inherit `main`'s isolation, the main actor, whose queue
            // is only served under `dispatch_main`, which this thread never enters.
            Task.detached {
                await ProcessEventLoop.$current.withValue(loop) {
                    await Spoold.main(nil)  // exits the process itself when the command fails
                }
                Spoold.exit()
            }
        }
    }
}

/// The event loop on the main thread, for the sockets of whatever command runs (`SpooldMain`).
enum ProcessEventLoop {
    @TaskLocal static var current: (any EventLoop)?

    /// The main thread's loop; NIO's singleton group where there is none (a command run by a test).
    static var group: any EventLoopGroup { current ?? MultiThreadedEventLoopGroup.singleton }
}
