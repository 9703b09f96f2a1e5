import CallFile

/// What `spoold cancel` and `spoold reschedule` may do to a file in each state (docs/engine.md, "Queue
/// control"): a waiting file (scheduled, due, parked, held by a window) can be cancelled or moved; a call in
/// flight can be cancelled, hung up first, but not moved; a file being started, looked for after a restart or
/// finished is refused with the reason, and so is every request while spoold stops or after it stopped.
///
/// A pure function of the file's state, kept out of the core so that this table, and what a cancelled file's
/// read and a new due time's result lead to, are tested case by case (`QueueControlTableTests`); the core
/// carries out what is allowed and answers each request with one reply.
enum QueueControl {
    typealias Action = SpoolStateMachine.Action
    typealias Reply = SpoolStateMachine.ControlReply
    typealias FileState = SpoolStateMachine.FileState

    /// What a cancel does.
    enum Cancel: Equatable {
        /// A waiting file: read for its Archive option, then finished as Cancelled, never dialled.
        case finishWaiting
        /// The call in flight is hung up; the file is finished as Cancelled when its call ends.
        case hangUp(CallAttempt)
        case refuse(Reply)
    }

    static func cancel(_ name: String, in state: FileState?, stopping: Bool) -> Cancel {
        if stopping { return .refuse(.refused("spoold is stopping; nothing is cancelled now")) }
        switch state {
        case .scheduled?, .parked?, .due?, .held?: return .finishWaiting
        case .dialling(let attempt)? where !attempt.cancelled: return .hangUp(attempt)
        case .dialling?: return .refuse(.refused("its call is being hung up already"))
        default: return .refuse(refusal(name, state, "cancelled"))
        }
    }

    /// Nil when the file may be moved to a new due time (a waiting file); else the answer.
    static func reschedule(_ name: String, in state: FileState?, stopping: Bool) -> Reply? {
        if stopping { return .refused("spoold is stopping; nothing is rescheduled now") }
        switch state {
        case .scheduled?, .parked?, .due?, .held?: return nil
        default: return refusal(name, state, "rescheduled")
        }
    }

    /// The engine has stopped: a control request still gets an answer; anything else, nothing.
    static func afterStop(_ event: SpoolStateMachine.Event) -> [SpoolStateMachine.Action] {
        switch event {
        case .cancel(_, let reply), .reschedule(_, _, let reply), .dueSet(_, _, let reply, _):
            [.reply(reply, .refused("spoold has stopped"))]
        default: []
        }
    }

    /// A call in flight is cancelled: the line, the hangup, and the answer (the file finishes when the call ends).
    static func hangingUp(_ name: String, _ attempt: CallAttempt, reply: UInt64) -> [Action] {
        let of = EngineWording.attempt(attempt)
        return [.log(.notice, "[\(name)] cancelled during \(of): hanging up its call (ChannelId \(attempt.channelId))"),
                .hangUp(name, channelId: attempt.channelId),
                .reply(reply, .done("\(of) is in flight: hanging up its call; the file is then finished as Cancelled"))]
    }

    /// What the read of a cancelled waiting file leads to, with the request's answer.
    enum CancelRead: Equatable {
        /// Gone meanwhile: forgotten.
        case gone(Reply)
        /// Not a regular file: it takes the way any such name takes when due (now).
        case notRegular(Reply)
        /// It holds a Status line already: archived as it says.
        case finishedAlready(CallStatus, FileID, Reply)
        /// This line, then finished as Cancelled by the plan.
        case cancel(Action, FinishPlan, Reply)
    }

    /// A cancelled waiting file, read: finished as Cancelled by its own Archive option. A file that cannot be
    /// read is moved aside, never deleted; one that holds a Status line already is archived as it says.
    /// `path`: the file's, for the parser's messages.
    static func cancelRead(_ name: String, _ result: SpoolStateMachine.ReadResult, path: String) -> CancelRead {
        var rule = FinishPlan.Rule.moveAside
        switch result {
        case .gone: return .gone(.unknown(EngineWording.unknown(name)))
        case .symlink, .notRegular:
            return .notRegular(.refused("it is not a regular file (a symlink is refused, anything else skipped, when it comes due)"))
        case .read(let bytes, let info):
            let parsed = CallFileParser.parse(bytes, path: path)
            if let status = parsed.file.finishedStatus {
                return .finishedAlready(status, info.fileID, .refused("it is finished already (Status: \(status.rawValue)); archiving it"))
            }
            if parsed.rejection == nil { rule = FinishPlan.Rule(parsed.file) }
        case .tooLarge, .unreadable: break
        }
        return .cancel(.log(.notice, "[\(name)] cancelled while waiting: not dialled"),
                       FinishPlan(status: .cancelled, summary: "Cancelled while waiting", rule: rule),
                       .done("cancelled; \(rule.archive ? "archived" : "deleted") with Status: Cancelled"))
    }

    /// The result of setting a rescheduled file's times: the answer when it failed (`gone`: the file is
    /// gone, forget it), else the line and the answer. `ownership`: spoold's uid, for a refusal.
    static func dueSet(_ name: String, _ due: SpoolInstant, reply: UInt64, _ failure: SpoolStateMachine.StepFailure?,
                       ownership: @autoclosure () -> String) -> (gone: Bool, [Action]) {
        guard let failure else {
            return (false, [.log(.notice, "[\(name)] rescheduled by spoold reschedule: due at \(due.timeOfDay)"),
                            .reply(reply, .done("due at \(due.timeOfDay) UTC"))])
        }
        if failure.isGone { return (true, [.reply(reply, .unknown(EngineWording.unknown(name)))]) }
        let owner = failure.infoAfter.map { "; \($0.ownership), \(ownership())" } ?? ""
        return (false, [.reply(reply, .refused("cannot set its mtime: \(failure)\(owner)"))])
    }

    /// Why a file that is not waiting cannot be `cancelled` or `rescheduled`, or that spoold knows none.
    private static func refusal(_ name: String, _ state: FileState?, _ verb: String) -> Reply {
        state.map { .refused(EngineWording.whyNot($0, verb)) } ?? .unknown(EngineWording.unknown(name))
    }
}
