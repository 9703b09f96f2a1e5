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

extension AttemptReport {
    /// An attempt's end, for observability: nothing built when nobody reads events (`emitsEvents`), none for a
    /// call that never reached the PBX (no `result`).
    static func ended(_ name: String, _ number: Int, _ channelId: String, _ file: CallFile, started: SpoolInstant,
                      _ ended: SpoolInstant, _ result: Result?, emitsEvents: Bool) -> [SpoolStateMachine.Action] {
        guard emitsEvents, let result else { return [] }
        return [.emit(.attemptEnded(AttemptReport(file: name, attempt: number, channelId: channelId, channel: file.channel?.description ?? "",
                                                  started: started, ended: ended, result: result)))]
    }
}
