import CallFile

/// What the read of a due file means (contract §2.1, §2.4, §2.9, §3): gone, not a call file, touched to a later
/// time while it waited, refused and moved aside (too large, unreadable, hostile bytes), invalid (Failed, or left
/// in place when AlwaysDelete: no and its mtime lies ahead), finished already (its Status line), or a call file
/// whose next step is the recovery of an attempt a stop left in flight, Expired (no attempt left), or a dial
/// unless its calling window holds it or it is too late (`timing`), or a trunk it matches is at its limit (the core's).
///
/// A type of its own so that a due file's read is tested case by case (`DueFileTests`), with its lines; the core
/// applies the decision (schedule, memos, the finish, the attempt). Pure; the time and the memos come in.
enum DueFile {
    typealias Action = SpoolStateMachine.Action

    enum Decision: Equatable {
        case gone, symlink, notRegular
        /// Touched to a later time while it waited (not by spoold): due then.
        case later(SpoolInstant)
        /// These lines, then finished by the plan (`info`: the lstat, where it counts).
        case finish([Action], FinishPlan, info: EntryInfo?)
        /// Invalid, but AlwaysDelete: no and its mtime ahead: these lines; it stays, due again then.
        case leave([Action], due: SpoolInstant)
        /// It holds its Status line already (a stop came before its archive): archived as it says.
        case finishedAlready(CallStatus, FileID)
        /// A call file with `made` attempts over, and what comes next for it.
        case runnable(CallFile, made: Int, info: EntryInfo, Next)
    }

    enum Next: Equatable {
        /// A StartRetry without end that spoold does not know as over: is its call still up?
        case recover(RetryRecord)
        /// No attempt left: these lines, then finished as Expired.
        case expire([Action], FinishPlan)
        /// To be dialled; `due`: the time its window and max_lateness are judged by.
        case dial(due: SpoolInstant)
    }

    /// `path`: the file's, for the parser's messages; `ownership`: spoold's uid, for the log (built only when a line
    /// needs it, not for every due file).
    static func decide(_ name: String, _ result: SpoolStateMachine.ReadResult, memos: FileMemos, path: String, maxFileSize: Int,
                       ownership: @autoclosure () -> String, now: SpoolInstant) -> Decision {
        let bytes: [UInt8], info: EntryInfo
        switch result {
        case .read(let read, let readInfo): (bytes, info) = (read, readInfo)
        case .gone: return .gone
        case .symlink: return .symlink
        case .notRegular: return .notRegular
        case .tooLarge(let size):
            return .finish([.log(.error, "[\(name)] refused: \(size) bytes is too large for a call file (limit \(maxFileSize) bytes)")],
                           .aside("too large"), info: nil)
        case .unreadable(let failure):
            let owner = failure.infoAfter.map { ", \($0.ownership)" } ?? ""
            return .finish([.log(.error, "[\(name)] cannot read the call file: \(failure)\(owner); \(ownership()). Moving it aside instead of deleting it")],
                           .aside("unreadable"), info: nil)
        }
        let parsed = CallFileParser.parse(bytes, path: path)
        if info.mtime > now, !memos.isOwn(mtime: info.mtime), parsed.file.finishedStatus == nil {
            return .later(info.mtime)  // touched to a later time while it waited (contract §2.4)
        }
        if let rejection = parsed.rejection {
            return .finish([.log(.error, "[\(name)] refused: \(rejection.detail); \(rejection.consequence)")], .aside(rejection.reason), info: nil)
        }
        let file = parsed.file
        if let status = file.finishedStatus { return .finishedAlready(status, info.fileID) }
        if let invalid = parsed.invalidReason {
            let line = Action.log(.error, "[\(name)] invalid call file: \(invalid); not dialled")
            if !file.alwaysDelete, info.mtime > now {
                return .leave([line, .log(.notice, "[\(name)] finished: Failed (invalid); left in place (AlwaysDelete: no, mtime in the future)"),
                               .emit(.finished(file: name, status: .failed, disposition: .left, summary: "Failed (invalid: \(invalid))"))],
                              due: info.mtime)
            }
            return .finish([line], FinishPlan(.failed, "Failed (invalid: \(invalid))", file), info: info)
        }
        let made = memos.attemptsMade(file)
        if let start = file.inFlightStart, start.number > memos.rememberedAttempts {
            return .runnable(file, made: made, info: info, .recover(start))
        }
        if made > file.maxRetries {
            return .runnable(file, made: made, info: info, .expire(
                [.log(.notice, "[\(name)] expired: \(made) of \(file.maxRetries + 1) attempts already made (MaxRetries \(file.maxRetries)); not dialled")],
                FinishPlan(.expired, "Expired after \(made) attempts", file)))
        }
        // A retry's due time is in the mtime, unless spoold cannot set it: then only the window applies.
        return .runnable(file, made: made, info: info, .dial(due: memos.stuckMtime == info.mtime ? now : info.mtime))
    }

    /// What a file's calling window and max_lateness say before it is dialled (`CallingRules.timing`).
    enum Timing: Equatable {
        case dialNow
        /// Held until its window opens: its mtime is set to then (so that the file shows when it is dialled), and this line.
        case hold(until: SpoolInstant, [Action])
        /// Too late: this line, then finished as Expired without a dial.
        case expire([Action], FinishPlan)
    }

    /// `due`: the time its lateness is judged by (`Next.dial`).
    static func timing(_ name: String, _ file: CallFile, channel: String, due: SpoolInstant, rules: CallingRules, now: SpoolInstant) -> Timing {
        switch rules.timing(channel: channel, due: due, now: now) {
        case .dialNow: return .dialNow
        case .holdUntil(let until, _):
            return .hold(until: until, [.setMtime(name, until),
                                        .log(.notice, "[\(name)] due, but \(rules.holdText(channel: channel, until: until)); not dialled before then")])
        case .tooLate(let dialAt, let lateness, let limit, let window):
            let why = rules.tooLateText(channel: channel, lateness: lateness, limit: limit, dialAt: dialAt, heldByWindow: window)
            return .expire([.log(.notice, "[\(name)] expired: \(why); not dialled")], FinishPlan(.expired, "Expired without a dial: \(why)", file))
        }
    }
}
