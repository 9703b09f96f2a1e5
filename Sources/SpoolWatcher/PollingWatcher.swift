import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// When polling mode lists the directory. Pure: observations and times go in, a decision comes out.
///
/// A listing is due when the directory's mtime (or identity) changed since the last look, and in any
/// case once per `interval`, which also covers servers whose timestamps are too coarse to show
/// every change.
struct PollSchedule {
    typealias Instant = ContinuousClock.Instant

    let interval: Duration
    private var lastListing: Instant?
    private var lastSeen: DirectoryIdentity?

    init(interval: Duration) {
        self.interval = max(interval, .milliseconds(10))
    }

    /// How often the directory is stat'ed between listings.
    var checkPeriod: Duration {
        min(max(interval / 4, .milliseconds(10)), .milliseconds(250))
    }

    enum Decision: Equatable {
        case wait
        case list(RescanReason)
        /// The directory is gone: report it once as an empty listing.
        case reportGone
    }

    mutating func decide(now: Instant, observed: DirectoryIdentity?) -> Decision {
        let previous = lastSeen
        lastSeen = observed
        guard let lastListing else {
            self.lastListing = now
            return .list(.initial)
        }
        guard let observed else {
            return previous == nil ? .wait : .reportGone
        }
        guard let previous, observed.isSameDirectory(as: previous) else {
            self.lastListing = now
            return .list(.directoryRecreated)
        }
        if observed.modified != previous.modified || now - lastListing >= interval {
            self.lastListing = now
            return .list(.poll)
        }
        return .wait
    }
}

/// Polling mode: stats the directory every `checkPeriod`, lists it when `PollSchedule` says so.
struct PollingIterator: Sendable {
    let directory: String
    var schedule: PollSchedule
    let logger: Logger
    let clock = ContinuousClock()
    private var started = false

    init(directory: String, schedule: PollSchedule, logger: Logger) {
        self.directory = directory
        self.schedule = schedule
        self.logger = logger
    }

    mutating func next() async -> [SpoolChange]? {
        while !Task.isCancelled {
            if started {
                do { try await clock.sleep(for: schedule.checkPeriod) } catch { return nil }
            }
            started = true
            let observed = DirectoryIdentity.of(directory)
            switch schedule.decide(now: clock.now, observed: observed) {
            case .wait:
                continue
            case .reportGone:
                logger.warning("spool directory is missing; waiting for it", metadata: ["directory": "\(directory)"])
                return [.rescan([], reason: .directoryRecreated)]
            case .list(let reason):
                do {
                    let listing = try DirectoryListing.read(directory)
                    if listing.unreadableNames > 0 {
                        logger.warning("\(listing.unreadableNames) names are not valid UTF-8 and are ignored",
                                       metadata: ["directory": "\(directory)"])
                    }
                    return [.rescan(listing.names, reason: reason)]
                } catch where reason == .initial && (error.errno == ENOENT || error.errno == ENOTDIR) {
                    return [.rescan([], reason: .initial)]
                } catch {
                    logger.error("\(error.description); retrying", metadata: ["directory": "\(directory)"])
                }
            }
        }
        return nil
    }
}
