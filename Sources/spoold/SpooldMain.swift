#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import NIOCore
import NIOPosix

/// spoold's entry point. Synchronous, so that Swift concurrency's jobs are handed to NIO's event loop before
/// the first task exists (the takeover must happen on the main thread, once, before any task runs).
///
/// Why: with concurrency on its own thread pool, one call through AMI hopped about 40 times between the
/// pool's threads, the dispatch thread of a sleeping task's timer and NIO's loop, each a futex wake-up that
/// cost more CPU than everything spoold computes for the call. On one event loop, the engine, the AMI
/// connection, the call's stages and the event readers run on the same thread: a hop is a queue append.
/// One loop, unless `NIO_SINGLETON_GROUP_LOOP_COUNT` says otherwise: spoold shares its machine with Asterisk,
/// its engine is one actor anyway, and its blocking work (archive moves, the result log, the watcher, the
/// log writer) has threads of its own.
@main
enum SpooldMain {
    static func main() {
        if getenv("NIO_SINGLETON_GROUP_LOOP_COUNT") == nil { NIOSingletons.groupLoopCountSuggestion = 1 }
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        Task {
            await Spoold.main()
            exit(0)
        }
        dispatchMain()
    }
}
