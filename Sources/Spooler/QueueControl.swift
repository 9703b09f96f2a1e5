/// What `spoold cancel` and `spoold reschedule` may do to a file in each state (docs/engine.md, "Queue
/// control"): a waiting file (scheduled, due, parked, held by a window) can be cancelled or moved; a call in
/// flight can be cancelled, hung up first, but not moved; a file being started, looked for after a restart or
/// finished is refused with the reason, and so is every request while spoold stops or after it stopped.
///
/// A pure function of the file's state, kept out of the core so that this table is tested state by state
/// (`QueueControlTableTests`); the core carries out what is allowed and answers each request with one reply.
enum QueueControl {
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

    /// Why a file that is not waiting cannot be `cancelled` or `rescheduled`, or that spoold knows none.
    private static func refusal(_ name: String, _ state: FileState?, _ verb: String) -> Reply {
        state.map { .refused(EngineWording.whyNot($0, verb)) } ?? .unknown(EngineWording.unknown(name))
    }
}
