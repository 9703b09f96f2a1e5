import NIOCore

/// Follows every Originate in flight from its Response to its OriginateResponse and Hangup, as a pure
/// value. `Subscriber` is whoever wants the stages (a stream continuation in the client, a number in
/// tests).
///
/// Entries are keyed by ActionID, with an index from ChannelId for the Hangup. Each entry has a deadline
/// until answered, so an OriginateResponse that never comes cannot keep its entry alive; an answered
/// call has none, because calls may last for hours, and ends with its Hangup or with the connection.
struct OriginateTracker<Subscriber> {
    enum Progress {
        case sent
        case queued
        case answered
    }

    struct Entry {
        var subscriber: Subscriber
        var channelId: String
        var progress: Progress
        var deadline: NIODeadline?
        /// Time allowed for the OriginateResponse once queued: ring timeout plus margin.
        var resultWindow: TimeAmount
        /// A Hangup that overtook its OriginateResponse (possible for a very short call).
        var earlyHangup: OriginateStage?
    }

    struct Update {
        var subscriber: Subscriber
        var stage: OriginateStage
    }

    private(set) var entries: [String: Entry] = [:]
    private var actionIDByChannelId: [String: String] = [:]

    var count: Int { entries.count }

    /// The Originate was written; its Response is due by `responseDeadline`.
    mutating func sent(actionID: String, channelId: String, subscriber: Subscriber, responseDeadline: NIODeadline, resultWindow: TimeAmount) {
        entries[actionID] = Entry(
            subscriber: subscriber, channelId: channelId, progress: .sent,
            deadline: responseDeadline, resultWindow: resultWindow, earlyHangup: nil
        )
        actionIDByChannelId[channelId] = actionID
    }

    /// Whether a message (response or event) may concern us; cheap, for the hot path.
    func isTracked(actionID: String) -> Bool {
        entries[actionID] != nil
    }

    /// `Response:` to the Originate itself.
    mutating func response(_ message: AMIMessage, actionID: String, now: NIODeadline) -> Update? {
        guard var entry = entries[actionID], case .sent = entry.progress else { return nil }
        if message["Response"] == "Success" {
            entry.progress = .queued
            entry.deadline = now + entry.resultWindow
            entries[actionID] = entry
            return Update(subscriber: entry.subscriber, stage: .queued)
        }
        remove(actionID)
        return Update(subscriber: entry.subscriber, stage: .rejected(message["Message"] ?? "Originate refused without a message"))
    }

    /// `Event: OriginateResponse`, matched by ActionID.
    mutating func originateResponse(_ message: AMIMessage, actionID: String) -> [Update] {
        guard var entry = entries[actionID] else { return [] }
        switch entry.progress {
        case .answered:
            return []
        case .sent, .queued:
            break
        }
        let channel = message["Channel"] ?? ""
        var updates: [Update] = []
        if case .sent = entry.progress {
            // An OriginateResponse means Asterisk queued the call. On one TCP connection the Response
            // always comes first, but over HTTP the event's long poll can overtake the action's reply.
            updates.append(Update(subscriber: entry.subscriber, stage: .queued))
        }
        guard message["Response"] == "Success" else {
            remove(actionID)
            let reason = message["Reason"].flatMap { Int($0) } ?? 0
            updates.append(Update(subscriber: entry.subscriber, stage: .failed(reason: reason, channel: channel)))
            return updates
        }
        updates.append(Update(subscriber: entry.subscriber, stage: .answered(channel: channel, uniqueid: message["Uniqueid"] ?? entry.channelId)))
        if let hangup = entry.earlyHangup {
            remove(actionID)
            updates.append(Update(subscriber: entry.subscriber, stage: hangup))
            return updates
        }
        entry.progress = .answered
        entry.deadline = nil
        entry.earlyHangup = nil
        entries[actionID] = entry
        return updates
    }

    /// `Event: Hangup`, matched by Uniqueid, which equals the ChannelId spoold assigned.
    mutating func hangup(_ message: AMIMessage) -> Update? {
        guard let uniqueid = message["Uniqueid"], let actionID = actionIDByChannelId[uniqueid],
              var entry = entries[actionID] else { return nil }
        let stage = OriginateStage.hungUp(cause: message["Cause"].flatMap { Int($0) }, causeText: message["Cause-txt"])
        guard case .answered = entry.progress else {
            entry.earlyHangup = stage
            entries[actionID] = entry
            return nil
        }
        remove(actionID)
        return Update(subscriber: entry.subscriber, stage: stage)
    }

    /// Every entry whose deadline passed ends: without a Response it may or may not have been queued,
    /// so it is reported as `noResponse` (counted as an attempt) rather than `notSent` (which invites a
    /// re-send and a double dial).
    mutating func expire(now: NIODeadline) -> [Update] {
        var expired: [String] = []
        for (actionID, entry) in entries {
            if let deadline = entry.deadline, deadline <= now { expired.append(actionID) }
        }
        return expired.compactMap { actionID in
            guard let entry = remove(actionID) else { return nil }
            return Update(subscriber: entry.subscriber, stage: .noResponse)
        }
    }

    /// The connection is gone: every entry ends with how far it got. Nothing is ever re-sent.
    mutating func connectionLost() -> [Update] {
        let updates = entries.values.map { entry -> Update in
            switch entry.progress {
            case .sent:
                return Update(subscriber: entry.subscriber, stage: .notSent(OriginateStage.unconfirmedMessage))
            case .queued:
                return Update(subscriber: entry.subscriber, stage: .connectionLost(afterAnswer: false))
            case .answered:
                return Update(subscriber: entry.subscriber, stage: .connectionLost(afterAnswer: true))
            }
        }
        entries.removeAll()
        actionIDByChannelId.removeAll()
        return updates
    }

    /// The subscriber lost interest; forget the entry.
    @discardableResult
    mutating func remove(_ actionID: String) -> Entry? {
        guard let entry = entries.removeValue(forKey: actionID) else { return nil }
        if actionIDByChannelId[entry.channelId] == actionID {
            actionIDByChannelId.removeValue(forKey: entry.channelId)
        }
        return entry
    }
}

// The HTTP client keeps its tracker inside a lock shared across tasks.
extension OriginateTracker: Sendable where Subscriber: Sendable {}
extension OriginateTracker.Entry: Sendable where Subscriber: Sendable {}
extension OriginateTracker.Progress: Sendable {}
