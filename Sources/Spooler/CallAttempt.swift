import CallFile

/// One attempt at a call file, from its StartRetry record to its end: what the shell needs to place or follow
/// the call and to take the record back out, and what the core needs to match the backend's reports to this
/// attempt (`token`, not an earlier attempt's) and to tell, when it ends, whether the file was replaced or its
/// mtime moved by someone else meanwhile.
///
/// A type of its own because how an attempt starts (its number, ChannelId and record times, contract §3) and
/// how the backend's stages fold into how it ended are rules of their own, tested on their own
/// (`CallAttemptTests`); the core decides what an outcome leads to (records, retry, finish).
struct CallAttempt: Equatable, Sendable {
    /// How an attempt ended; `notPlaced`: it never reached the PBX, so it is no attempt.
    enum Outcome: Equatable, Sendable {
        case completed, failed(reason: Int, text: String), rejected(String), notPlaced(String)

        /// The attempt's result for observability; nil for a call that never reached the PBX (not an attempt).
        var report: AttemptReport.Result? {
            switch self {
            case .completed: .answered
            case .failed(let reason, let text): .failed(reason: reason, text: text)
            case .rejected(let message): .rejected(message)
            case .notPlaced: nil
            }
        }
    }

    /// The call file as read, in a box: an attempt is copied out of its state and back at every step of
    /// a call, and a `CallFile` is a dozen reference-counted fields (one retain instead of a dozen).
    private let box: FileBox
    var file: CallFile { box.file }
    var number: Int
    var channelId: String
    /// For taking the StartRetry back out when the call never reached the PBX.
    var lengthBefore: Int64
    var mtimeBefore: SpoolInstant
    /// The mtime spoold gave the file with StartRetry: any other future mtime at the end was set by
    /// someone else (AlwaysDelete: no reuse).
    var ownMtime: SpoolInstant
    /// The file the attempt belongs to: if the name comes to name another file, that file is a new call.
    var fileID: FileID?
    var started: SpoolInstant
    /// Matches the backend's reports to this attempt (not to an earlier one of the same file).
    var token: UInt64
    var answered = false
    /// `spoold cancel` hung its call up: when it ends, the file finishes as Cancelled whatever the outcome.
    var cancelled = false

    init(file: CallFile, number: Int, channelId: String, lengthBefore: Int64, mtimeBefore: SpoolInstant,
         ownMtime: SpoolInstant, fileID: FileID?, started: SpoolInstant, token: UInt64, answered: Bool = false,
         cancelled: Bool = false) {
        box = FileBox(file)
        (self.number, self.channelId, self.lengthBefore) = (number, channelId, lengthBefore)
        (self.mtimeBefore, self.ownMtime, self.fileID) = (mtimeBefore, ownMtime, fileID)
        (self.started, self.token, self.answered, self.cancelled) = (started, token, answered, cancelled)
    }

    /// A new attempt at the file `name` whose lstat is `info`, starting `now`, numbered after the `made`
    /// attempts already over. StartRetry's epoch is the start plus RetryTime (Asterisk's format) and is part
    /// of the ChannelId, so a restart recomputes the ChannelId from the record alone; the record sets the
    /// mtime to the start plus twice RetryTime, the one future mtime spoold knows as its own.
    init(_ file: CallFile, name: String, made: Int, info: EntryInfo, now: SpoolInstant, token: UInt64) {
        let number = made + 1
        let channelId = ChannelID.make(fileName: name, startEpoch: now.seconds + Int64(file.retryTime), attempt: number)
        self.init(file: file, number: number, channelId: channelId, lengthBefore: 0, mtimeBefore: info.mtime,
                  ownMtime: now.adding(seconds: 2 * file.retryTime), fileID: info.fileID, started: now, token: token)
    }

    /// The epoch StartRetry records: the start plus RetryTime.
    var startEpoch: Int64 { started.seconds + Int64(file.retryTime) }
    /// The atime StartRetry sets: the start plus RetryTime.
    var startAtime: SpoolInstant { started.adding(seconds: file.retryTime) }

    /// Folds the backend's next stage in: nil while the call goes on (an answer is noted), else how the
    /// attempt ended. A nil stage is the end of the backend's report: answered before it, the call is
    /// Completed; else it failed. An answered call ends at its hangup, or at the answer itself with
    /// finish-at-answer; a hangup before any answer is a failed attempt, never Completed.
    mutating func outcome(after stage: CallStage?, finishAtAnswer: Bool) -> Outcome? {
        switch stage {
        case nil: return answered ? .completed : .failed(reason: 0, text: "the backend gave no result")
        case .placed?: return nil
        case .answered?:
            answered = true
            return finishAtAnswer ? .completed : nil
        case .hungUp?: return answered ? .completed : .failed(reason: 0, text: "hung up before answer")
        case .failed(let reason, let text)?: return .failed(reason: reason, text: text)
        case .rejected(let message)?: return .rejected(message)
        case .notPlaced(let message)?: return .notPlaced(message)
        }
    }

    /// Immutable, so sharing it between copies of an attempt is sharing a value.
    final class FileBox: Equatable, Sendable {
        let file: CallFile
        init(_ file: CallFile) { self.file = file }
        static func == (lhs: FileBox, rhs: FileBox) -> Bool { lhs === rhs || lhs.file == rhs.file }
    }
}
