/// How far one Originate got. An `originate` stream yields these in order and ends after a terminal one.
public enum OriginateStage: Sendable, Equatable {
    /// No connection, or it dropped before `Originate successfully queued`: Asterisk never dialled.
    /// Terminal; the caller may try again later.
    case notSent(String)
    /// `Response: Error` with its Message, or a request refused before it reached the wire. Terminal.
    case rejected(String)
    /// `Originate successfully queued`: Asterisk is dialling.
    case queued
    /// `OriginateResponse` with `Response: Success` (Reason 4).
    case answered(channel: String, uniqueid: String)
    /// `OriginateResponse` with `Response: Failure` and its Reason (reference §6). Terminal.
    case failed(reason: Int, channel: String)
    /// The `Hangup` event of the channel whose Uniqueid is the request's ChannelId. Terminal.
    case hungUp(cause: Int?, causeText: String?)
    /// The connection dropped after `queued`. Terminal: the call may still be up in Asterisk, so ask
    /// `channelExists` once reconnected.
    case connectionLost(afterAnswer: Bool)
    /// No `OriginateResponse` within the ring timeout plus the margin. Terminal.
    case noResponse

    public var isTerminal: Bool {
        switch self {
        case .queued, .answered: return false
        case .notSent, .rejected, .failed, .hungUp, .connectionLost, .noResponse: return true
        }
    }
}

extension OriginateStage {
    /// The `notSent` message when the Originate was written but the connection dropped before its
    /// response: unlike "not connected", Asterisk may have received it and be dialling, so a caller must
    /// ask that same server (`channelExists`) before it dials the call anywhere again.
    public static let unconfirmedMessage = "connection lost before Asterisk confirmed the Originate"
}
