import Dispatch
import Foundation
import Logging
import Synchronization

/// The process-wide owner of libinotifytools: one lazily started thread that holds the library,
/// multiplexes every `SpoolWatcher`'s watches over its single inotify instance and routes events
/// to subscribers by watch descriptor.
///
/// Other threads never touch the library: they leave commands in `inbox` and wake the thread by
/// writing to a private, already unlinked file the thread watches (the library offers no other way
/// to interrupt its blocking wait).
final class InotifyHub: Sendable {
    static let shared = InotifyHub()

    typealias SubscriptionID = UInt64
    typealias Output = WatchOutput

    enum Command {
        case subscribe(SubscriptionID, directory: String, logger: Logger, output: Output)
        case unsubscribe(SubscriptionID)
        /// Stops reading until `gate` is signalled, so a test can make the kernel queue overflow.
        case pause(entered: @Sendable () -> Void, gate: DispatchSemaphore)
    }

    private struct Inbox {
        var commands: [Command] = []
        var started = false
        var nextID: SubscriptionID = 0
        var wakeFile: Int32 = -1
    }

    private let inbox = Mutex(Inbox())

    private init() {}

    func subscribe(directory: String, logger: Logger, output: Output) -> SubscriptionID {
        let id = inbox.withLock { inbox in
            inbox.nextID += 1
            return inbox.nextID
        }
        send(.subscribe(id, directory: directory, logger: logger, output: output))
        return id
    }

    func unsubscribe(_ id: SubscriptionID) {
        send(.unsubscribe(id))
    }

    /// Holds the reader thread until the returned semaphore is signalled; returns once it is held.
    func pauseReader() async -> DispatchSemaphore {
        let gate = DispatchSemaphore(value: 0)
        await withCheckedContinuation { (entered: CheckedContinuation<Void, Never>) in
            send(.pause(entered: { entered.resume() }, gate: gate))
        }
        return gate
    }

    private func send(_ command: Command) {
        enum Next { case startReader, wake(Int32), nothing }
        let next = inbox.withLock { inbox -> Next in
            guard inbox.started else {
                // Without a reader nothing is watched, so there is nothing to cancel.
                if case .unsubscribe = command { return .nothing }
                inbox.started = true
                inbox.commands.append(command)
                return .startReader
            }
            inbox.commands.append(command)
            return .wake(inbox.wakeFile)
        }
        switch next {
        case .startReader:
            Thread { [self] in runReader() }.start()
        case .wake(let wakeFile) where wakeFile >= 0:
            var byte: UInt8 = 1
            _ = pwrite(wakeFile, &byte, 1, 0)
        case .wake, .nothing:
            break
        }
    }

    fileprivate func takeCommands() -> [Command] {
        inbox.withLock { inbox in
            defer { inbox.commands.removeAll() }
            return inbox.commands
        }
    }

    fileprivate func publishWakeFile(_ descriptor: Int32) {
        inbox.withLock { $0.wakeFile = descriptor }
    }

    private func runReader() {
        // Named from inside the thread, so `top -H` and /proc show which thread is the watcher.
        Thread.current.name = "spoold-inotify"
        let logger = Logger(label: "spoold.watcher.inotify")
        let library: InotifyLibrary
        do {
            library = try InotifyLibrary()
        } catch {
            abandon(because: error)
            return
        }
        let reader = HubReader(hub: self, library: library, logger: logger)
        reader.installWakeFile()
        reader.run()
    }

    /// inotify could not be initialised (for example too many instances): every waiting subscriber's
    /// sequence ends with the error logged, and the next subscription tries again with a new reader.
    private func abandon(because failure: InotifyLibrary.Failure) {
        let waiting = inbox.withLock { inbox in
            defer {
                inbox.commands.removeAll()
                inbox.started = false
            }
            return inbox.commands
        }
        for command in waiting {
            switch command {
            case .subscribe(_, let directory, let logger, let output):
                logger.error("cannot watch the spool directory, use polling mode: \(failure)",
                             metadata: ["directory": "\(directory)"])
                output.finish()
            case .pause(let entered, _):
                entered()
            case .unsubscribe:
                break
            }
        }
    }
}

/// The reader thread's state. Lives and dies on that thread.
private final class HubReader {
    typealias SubscriptionID = InotifyHub.SubscriptionID
    typealias Instant = ContinuousClock.Instant

    /// Upper bound for one batch handed to a subscriber, and for events drained per wake-up.
    static let batchLimit = 4096
    /// How long the reader lets events gather after waking; the latency it adds to a single change.
    static let gatherMicroseconds: UInt32 = 1000

    enum Role: Hashable {
        case spool(SubscriptionID)
        case parent(SubscriptionID)
    }

    struct Watch {
        var path: String
        var roles: Set<Role>
    }

    final class Subscription {
        let id: SubscriptionID
        let path: String
        let parentPath: String?
        let name: String?
        let logger: Logger
        let output: InotifyHub.Output
        var state = SpoolDirectoryState()
        var spoolWatch: Int32?
        var identity: DirectoryIdentity?
        var parentWatch: Int32?
        var needsRevalidation = false
        /// True once an empty listing has told the subscriber the directory is gone.
        var reportedAbsent = false
        var lastProblem: String?
        var pending: [SpoolChange] = []

        init(id: SubscriptionID, path: String, logger: Logger, output: InotifyHub.Output) {
            self.id = id
            self.path = path
            let split = SpoolPath.split(path)
            self.parentPath = split?.parent
            self.name = split?.name
            self.logger = logger
            self.output = output
        }

        /// Logs a problem once, not on every retry.
        func report(_ problem: String) {
            guard problem != lastProblem else { return }
            lastProblem = problem
            logger.warning("spool watch: \(problem)", metadata: ["directory": "\(path)"])
        }
    }

    private let hub: InotifyHub
    private let library: InotifyLibrary
    private let logger: Logger
    private var watches: [Int32: Watch] = [:]
    private var subscriptions: [SubscriptionID: Subscription] = [:]
    private var wakeWatch: Int32?

    init(hub: InotifyHub, library: InotifyLibrary, logger: Logger) {
        self.hub = hub
        self.library = library
        self.logger = logger
    }

    /// Creates, watches and unlinks a private file; writing to its descriptor wakes `run`.
    func installWakeFile() {
        let directory = NSTemporaryDirectory()
        let separator = directory.hasSuffix("/") ? "" : "/"
        var template = Array("\(directory)\(separator)spoold-watcher-wake-XXXXXX".utf8) + [0]
        let descriptor = template.withUnsafeMutableBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { mkstemp($0.baseAddress!) }
        }
        guard descriptor >= 0 else {
            logger.warning("no wake-up file (\(String(cString: strerror(errno)))); commands wait up to 1 s")
            return
        }
        let path = String(decoding: template.dropLast(), as: UTF8.self)
        defer { unlink(path) }
        do {
            wakeWatch = try library.addWatch(path, mask: .modify)
            hub.publishWakeFile(descriptor)
        } catch {
            close(descriptor)
            logger.warning("no wake-up file (\(error)); commands wait up to 1 s")
        }
    }

    func run() {
        applyCommands()
        while true {
            let timeout = waitSeconds(now: .now)
            var drained = 0
            switch library.next(timeoutSeconds: timeout) {
            case .event(let event):
                handle(event)
                drained = 1
                // A wake-up costs more than an event: during a burst, let the kernel gather a
                // millisecond's worth of events so they arrive in one read.
                usleep(Self.gatherMicroseconds)
            case .timedOut:
                break
            case .failed(let error):
                if error != EINTR {
                    logger.error("reading inotify events failed: \(String(cString: strerror(error)))")
                    Thread.sleep(forTimeInterval: 0.1)
                }
            }
            // Drain what the kernel already has, up to a bounded batch.
            while drained > 0, drained < Self.batchLimit, case .event(let event) = library.next(timeoutSeconds: 0) {
                handle(event)
                drained += 1
            }
            // Commands after the events already read: a watch the kernel dropped meanwhile
            // (`IN_IGNORED`) is then known, and not removed a second time.
            applyCommands()
            finishBatch(now: .now)
        }
    }

    /// Whole seconds the library may block (it counts in seconds, rounded up here, so a hard link is
    /// reported 2 to 3 s after it is made): until the earliest grace deadline, every second while a
    /// watch is missing, otherwise without limit (commands and events wake it).
    private func waitSeconds(now: Instant) -> Int {
        var wait: Duration?
        for subscription in subscriptions.values {
            if subscription.spoolWatch == nil || subscription.parentWatch == nil && subscription.parentPath != nil {
                wait = .seconds(1)
            }
            if let deadline = subscription.state.nextDeadline() {
                let remaining = max(deadline - now, .zero)
                wait = min(wait ?? remaining, remaining)
            }
        }
        if wakeWatch == nil { wait = min(wait ?? .seconds(1), .seconds(1)) }
        guard let wait else { return -1 }
        if wait <= .zero { return 0 }
        let (seconds, attoseconds) = wait.components
        return Int(seconds) + (attoseconds > 0 ? 1 : 0)
    }

    private func applyCommands() {
        for command in hub.takeCommands() {
            switch command {
            case .subscribe(let id, let directory, let logger, let output):
                let subscription = Subscription(id: id, path: directory, logger: logger, output: output)
                subscriptions[id] = subscription
                watchParent(of: subscription)
                startWatching(subscription, reason: .initial)
                flush(subscription)
            case .unsubscribe(let id):
                guard let subscription = subscriptions.removeValue(forKey: id) else { continue }
                if let watch = subscription.spoolWatch { release(watch, role: .spool(id)) }
                if let watch = subscription.parentWatch { release(watch, role: .parent(id)) }
            case .pause(let entered, let gate):
                entered()
                gate.wait()
            }
        }
    }

    // MARK: Events

    private func handle(_ event: InotifyEvent) {
        if event.mask.contains(.queueOverflow) {
            logger.warning("inotify queue overflowed; rescanning every spool directory")
            for subscription in subscriptions.values { rescanAfterOverflow(subscription) }
            return
        }
        if event.watch == wakeWatch { return }
        if event.mask.contains(.ignored) {
            kernelDropped(event.watch)
            return
        }
        guard let watch = watches[event.watch] else { return }
        for role in watch.roles {
            switch role {
            case .spool(let id):
                guard let subscription = subscriptions[id] else { continue }
                handleSpoolEvent(event, in: subscription)
            case .parent(let id):
                guard let subscription = subscriptions[id] else { continue }
                handleParentEvent(event, for: subscription)
            }
        }
    }

    private func handleSpoolEvent(_ event: InotifyEvent, in subscription: Subscription) {
        if event.name.isEmpty {
            if !event.mask.isDisjoint(with: [.deleteSelf, .moveSelf, .unmount]) {
                subscription.needsRevalidation = true
            }
            return
        }
        // Opens and read-only closes only matter for names still being created; every open of a call file
        // (spoold's own, twice per attempt) reports one, so skip them before making a String of the name.
        if event.mask.isSubset(of: [.open, .closeNoWrite]), subscription.state.pendingCount == 0 { return }
        switch DirectoryListing.reportableName(event.name) {
        case .name(let name):
            // The clock is read only by an event that starts a grace (a create, a reader's close).
            if let change = subscription.state.handle(event.mask, name: name, readingNow: { ContinuousClock.now }) {
                subscription.pending.append(change)
            }
        case .notUTF8:
            subscription.report("ignoring a name that is not valid UTF-8")
        case .hidden, .none:
            break
        }
    }

    private func handleParentEvent(_ event: InotifyEvent, for subscription: Subscription) {
        if event.name.isEmpty {
            // The parent itself moved or went away: the spool path now means something else.
            if !event.mask.isDisjoint(with: [.deleteSelf, .moveSelf, .unmount]) {
                if let watch = subscription.parentWatch, event.mask.contains(.moveSelf) {
                    release(watch, role: .parent(subscription.id))
                    subscription.parentWatch = nil
                }
                subscription.needsRevalidation = true
            }
            return
        }
        guard let name = subscription.name, event.name.elementsEqual(name.utf8),
              !event.mask.isDisjoint(with: [.create, .movedTo, .delete, .movedFrom])
        else { return }
        subscription.needsRevalidation = true
    }

    /// The kernel removed a watch (its directory was deleted or unmounted): nothing to remove.
    private func kernelDropped(_ descriptor: Int32) {
        guard let watch = watches.removeValue(forKey: descriptor) else { return }
        for role in watch.roles {
            switch role {
            case .spool(let id):
                guard let subscription = subscriptions[id] else { continue }
                subscription.spoolWatch = nil
                subscription.needsRevalidation = true
            case .parent(let id):
                guard let subscription = subscriptions[id] else { continue }
                subscription.parentWatch = nil
                subscription.needsRevalidation = true
            }
        }
    }

    private func finishBatch(now: Instant) {
        for subscription in subscriptions.values {
            if subscription.parentWatch == nil { watchParent(of: subscription) }
            if subscription.needsRevalidation || subscription.spoolWatch == nil {
                subscription.needsRevalidation = false
                revalidate(subscription)
            }
            subscription.pending.append(contentsOf: subscription.state.expire(now: now))
            flush(subscription)
        }
    }

    private func flush(_ subscription: Subscription) {
        guard !subscription.pending.isEmpty else { return }
        if subscription.pending.count <= Self.batchLimit {
            // The usual batch is handed over whole, not copied.
            var batch: [SpoolChange] = []
            swap(&batch, &subscription.pending)
            subscription.output.yield(batch)
            return
        }
        var start = 0
        while start < subscription.pending.count {
            let end = min(start + Self.batchLimit, subscription.pending.count)
            subscription.output.yield(Array(subscription.pending[start..<end]))
            start = end
        }
        subscription.pending.removeAll(keepingCapacity: true)
    }

    // MARK: Watches and listings

    private func watchParent(of subscription: Subscription) {
        guard let parent = subscription.parentPath else { return }
        do {
            let descriptor = try acquire(parent, role: .parent(subscription.id))
            subscription.parentWatch = descriptor
        } catch {
            subscription.report("cannot watch the parent directory, retrying every second: \(error)")
        }
    }

    /// Checks that the watched directory is still the one at the path; if not, watches the new one
    /// and reports its listing, or reports an empty listing while there is none.
    private func revalidate(_ subscription: Subscription) {
        let current = DirectoryIdentity.of(subscription.path)
        if subscription.spoolWatch != nil, let identity = subscription.identity,
           let current, current.isSameDirectory(as: identity) {
            return
        }
        if let watch = subscription.spoolWatch {
            release(watch, role: .spool(subscription.id))
            subscription.spoolWatch = nil
        }
        subscription.state.reset()
        if current != nil {
            startWatching(subscription, reason: .directoryRecreated)
        } else if !subscription.reportedAbsent {
            subscription.reportedAbsent = true
            subscription.report("directory is missing; waiting for it to exist again")
            subscription.pending.append(.rescan([], reason: .directoryRecreated))
        }
    }

    /// Watches the directory, then lists it, so nothing created in between is missed.
    private func startWatching(_ subscription: Subscription, reason: RescanReason) {
        let before = DirectoryIdentity.of(subscription.path)
        do {
            let descriptor = try acquire(subscription.path, role: .spool(subscription.id))
            subscription.spoolWatch = descriptor
            subscription.identity = before
            // Replaced between the stat and the watch: check again after this batch.
            let after = DirectoryIdentity.of(subscription.path)
            if !(before.map { after?.isSameDirectory(as: $0) ?? false } ?? false) {
                subscription.needsRevalidation = true
            }
        } catch {
            if reason == .initial || !subscription.reportedAbsent {
                subscription.reportedAbsent = true
                subscription.pending.append(.rescan([], reason: reason))
            }
            subscription.report("cannot watch the directory, waiting for it: \(error)")
            return
        }
        list(subscription, reason: reason)
    }

    private func rescanAfterOverflow(_ subscription: Subscription) {
        subscription.state.reset()
        guard subscription.spoolWatch != nil else { return }
        if let current = DirectoryIdentity.of(subscription.path), let identity = subscription.identity,
           current.isSameDirectory(as: identity) {
            list(subscription, reason: .overflow)
        } else {
            subscription.needsRevalidation = true
        }
    }

    private func list(_ subscription: Subscription, reason: RescanReason) {
        do {
            let handOver = reason == .initial ? subscription.output.dotNamesAtStart : nil
            let listing = try DirectoryListing.read(subscription.path, keepingDotNames: handOver != nil)
            handOver?(listing.dotNames)  // before the listing is in `pending`: it is delivered after this
            if listing.unreadableNames > 0 {
                subscription.report("\(listing.unreadableNames) names are not valid UTF-8 and are ignored")
            }
            subscription.reportedAbsent = false
            subscription.lastProblem = nil
            subscription.pending.append(.rescan(listing.names, reason: reason))
        } catch {
            subscription.report("\(error.description); retrying every second")
            if reason == .initial {
                subscription.reportedAbsent = true
                subscription.pending.append(.rescan([], reason: .initial))
            }
            if let watch = subscription.spoolWatch {
                release(watch, role: .spool(subscription.id))
                subscription.spoolWatch = nil
            }
        }
    }

    private func acquire(_ path: String, role: Role) throws(InotifyLibrary.Failure) -> Int32 {
        let descriptor = try library.addWatch(path, mask: .directoryWatch)
        watches[descriptor, default: Watch(path: path, roles: [])].roles.insert(role)
        return descriptor
    }

    private func release(_ descriptor: Int32, role: Role) {
        guard var watch = watches[descriptor] else { return }
        watch.roles.remove(role)
        if watch.roles.isEmpty {
            watches.removeValue(forKey: descriptor)
            library.removeWatch(descriptor)
        } else {
            watches[descriptor] = watch
        }
    }
}
