import CallFile

/// One attempt as the result log, the metrics and the on_finish hook see it.
public struct AttemptReport: Sendable, Equatable {
    public enum Result: Sendable, Equatable {
        /// Answered (reason 4), and over: hung up, or answered with finish-at-answer.
        case answered
        /// Failed before answer with Asterisk's reason code (reference §6).
        case failed(reason: Int, text: String)
        /// The PBX refused the call for good (AMI `Response: Error`).
        case rejected(String)
        /// In flight when spoold stopped, and its call was gone at the next start (AbortRetry).
        case aborted
    }

    public var file: String
    /// 1-based, as in the file's records.
    public var attempt: Int
    /// The Originate's ChannelId, which Asterisk uses as the channel's Uniqueid.
    public var channelId: String
    /// The file's Channel.
    public var channel: String
    public var started: SpoolInstant
    public var ended: SpoolInstant
    public var result: Result

    public init(file: String, attempt: Int, channelId: String, channel: String, started: SpoolInstant,
                ended: SpoolInstant, result: Result) {
        self.file = file
        self.attempt = attempt
        self.channelId = channelId
        self.channel = channel
        self.started = started
        self.ended = ended
        self.result = result
    }
}

extension SpoolEngine {
    /// Reports an attempt that reached the PBX; one that never did (`notPlaced`) is not an attempt.
    func reportEnd(of attempt: Attempt, _ name: String, outcome: Outcome, now: SpoolInstant) {
        guard events != nil else { return }
        let result: AttemptReport.Result
        switch outcome {
        case .completed: result = .answered
        case .failed(let reason, let text): result = .failed(reason: reason, text: text)
        case .rejected(let message): result = .rejected(message)
        case .notPlaced: return
        }
        emit(.attemptEnded(AttemptReport(
            file: name, attempt: attempt.number, channelId: attempt.channelId,
            channel: attempt.file.channel?.description ?? "", started: attempt.started, ended: now, result: result)))
    }

    /// An attempt a stop or crash cut short, counted with AbortRetry at this start.
    func reportAborted(_ name: String, file: CallFile, start: RetryRecord, number: Int, now: SpoolInstant) {
        emit(.attemptEnded(AttemptReport(
            file: name, attempt: number,
            channelId: ChannelID.make(fileName: name, startEpoch: start.epoch, attempt: start.number),
            channel: file.channel?.description ?? "", started: Self.startTime(of: start, file), ended: now,
            result: .aborted)))
    }

    /// StartRetry's epoch is the start time plus RetryTime (Asterisk's format), so the start is recovered
    /// to the second from the record alone.
    static func startTime(of start: RetryRecord, _ file: CallFile) -> SpoolInstant {
        SpoolInstant(seconds: start.epoch - Int64(file.retryTime))
    }
}
