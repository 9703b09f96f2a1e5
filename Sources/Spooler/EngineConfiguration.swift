#if canImport(Glibc)
import Glibc
#endif
import CallFile

public struct EngineConfiguration: Sendable {
    public static let defaultMaxConcurrent = 100
    public static let defaultMaxCallsPerSecond = 50.0

    /// The spool root: call files are read from `outgoing/` and archived to `outgoing_done/` under it.
    public var spoolDirectory: String
    /// At most this many attempts in flight (Originate until the attempt ends); 0 = no limit.
    public var maxConcurrent: Int
    /// At most this many new Originates per second; 0 = no limit.
    public var maxCallsPerSecond: Double
    /// Limits per channel pattern (trunk), on top of the global ones; see `TrunkLimits`.
    public var trunkLimits: [TrunkLimits.Rule] = []
    /// Calling windows, max_lateness and retry rules per outcome; none: Asterisk's behaviour.
    public var callingRules = CallingRules()
    /// End the attempt (Completed) at answer instead of waiting for the hangup.
    public var finishAtAnswer: Bool
    /// The pid written into retry records. Informative only: nothing is decided by it.
    public var pid: Int
    /// Files larger than this are failed unread ("too large").
    public var maxFileSize: Int
    /// How long a step that failed on the file system (disk full, permissions) waits before it is tried again.
    public var stepRetryDelay: Duration
    /// How long a file waits when the backend could not take the call (no AMI connection).
    public var backendRetryDelay: Duration
    /// On shutdown, how long calls in flight may take to finish before spoold exits anyway, leaving
    /// them to crash recovery (adopt or AbortRetry) on the next start.
    public var shutdownGrace: Duration
    /// The `fsync` setting: off (the default, as in Asterisk), or each record synced to disk and each
    /// rename's directories synced, so they survive a power loss too. Taken at start; see `DiskSync`.
    public var diskSync: DiskSync = .off

    public init(
        spoolDirectory: String,
        maxConcurrent: Int = defaultMaxConcurrent,
        maxCallsPerSecond: Double = defaultMaxCallsPerSecond,
        finishAtAnswer: Bool = false,
        pid: Int = Int(getpid()),
        maxFileSize: Int = 1 << 20,
        stepRetryDelay: Duration = .seconds(10),
        backendRetryDelay: Duration = .seconds(1),
        shutdownGrace: Duration = .seconds(10)
    ) {
        self.spoolDirectory = spoolDirectory
        self.maxConcurrent = maxConcurrent
        self.maxCallsPerSecond = maxCallsPerSecond
        self.finishAtAnswer = finishAtAnswer
        self.pid = pid
        self.maxFileSize = maxFileSize
        self.stepRetryDelay = stepRetryDelay
        self.backendRetryDelay = backendRetryDelay
        self.shutdownGrace = shutdownGrace
    }

    public var outgoingPath: String { spoolDirectory + "/outgoing" }
    public var donePath: String { spoolDirectory + "/outgoing_done" }
}

/// What happened to a file, for tests, metrics and the result log.
public enum EngineEvent: Sendable, Equatable {
    /// The initial listing is scheduled.
    case ready(scheduled: Int)
    case attemptStarted(file: String, attempt: Int, channelId: String)
    /// Right after `attemptStarted`: how long after the file came due (its mtime) it was dialled.
    case attemptDialled(file: String, attempt: Int, latency: Duration)
    /// An attempt is over (not for a call that never reached the PBX: that is `notPlaced`).
    case attemptEnded(AttemptReport)
    /// A failed attempt with attempts left: due again at `nextDue`.
    case retryScheduled(file: String, attempt: Int, reason: Int, nextDue: SpoolInstant)
    /// `summary` is the log's account of why, e.g. "Expired after 3 attempts" or "Failed (symlink)".
    case finished(file: String, status: CallStatus, disposition: Disposition, summary: String)
    /// AlwaysDelete: no and the dialplan moved the mtime: the file stays as a fresh call due then.
    case keptForReuse(file: String, due: SpoolInstant)
    /// An adopted call (found up at start-up) is being followed to its hangup.
    case adopted(file: String, channelId: String)
    /// A step could not be done on the file system and is retried later; no call was placed.
    case stepFailed(file: String, step: String)
    /// The backend could not take the call; nothing was counted.
    case notPlaced(file: String)
    /// A FIFO, socket, device or directory in outgoing/.
    case skipped(file: String, kind: String)
    /// The name came to name another file while its call was in flight: the call's result went into no
    /// file, and the new file is scheduled as a new call.
    case replacedInFlight(file: String)
    /// The file disappeared; its schedule is dropped.
    case forgotten(file: String)

    public enum Disposition: Sendable, Equatable {
        /// In `outgoing_done/` under this name.
        case archived(String)
        case deleted
        /// Invalid, AlwaysDelete: no and a future mtime: left in place, as Asterisk does.
        case left
    }
}
