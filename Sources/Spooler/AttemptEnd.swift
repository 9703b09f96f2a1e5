import CallFile

/// What the end of an attempt means (contract §2.2, §2.5, §2.11): the outcome, the file found at the name
/// afterwards and the retry rules decide whether the file is finished (Completed, Failed, Expired, or Cancelled
/// after `spoold cancel`), retried at a time (an EndRetry record whose times are the next due time), taken back
/// (the call never reached the PBX: its StartRetry comes back out, nothing is counted), or left to the new file
/// that took the name while the call was in flight (the result goes into no file).
///
/// A type of its own so that these decisions, with the log lines and events they give, are tested outcome by
/// outcome (`AttemptEndTests`); the core applies them to its bookkeeping (states, schedule, memos, the finish's
/// steps). Pure; the retry rules and the times come in as arguments.
struct AttemptEnd {
    typealias Action = SpoolStateMachine.Action
    let name: String, attempt: CallAttempt, outcome: CallAttempt.Outcome, ended: SpoolInstant

    /// What the attempt's end leads to, first of all.
    enum Decision: Equatable {
        /// The name holds another file now: these lines, then that file is a new call due at its own mtime.
        case replaced([Action])
        /// These lines, then the file is finished by the plan (`info`: its lstat, where that counts).
        case finish([Action], FinishPlan, info: EntryInfo?)
        /// Never reached the PBX: this line and the truncation that takes the StartRetry back out.
        case takeBack([Action])
        /// Failed with an attempt left: this EndRetry record, whose times are the next due time. The attempts
        /// made are remembered until it is in the file.
        case writeEnd(Action)
    }

    /// After the EndRetry record was written, or could not be.
    enum Recorded: Equatable {
        /// The file was removed meanwhile: this line, then it is forgotten.
        case gone(Action)
        /// These lines; the next attempt is due then (nil: none, the file was finished when the attempt ended).
        case retry([Action], due: SpoolInstant?)
    }

    /// `info`: the name's lstat after the end (nil: gone). `pid`: spoold's, for the EndRetry record.
    func decide(info: EntryInfo?, finishAtAnswer: Bool, rules: CallingRules, pid: Int) -> Decision {
        let (file, of) = (attempt.file, EngineWording.attempt(attempt))
        if let info, let dialled = attempt.fileID, info.fileID != dialled {
            // Replaced by rename while the call was in flight: nothing is lost, the new file is a new call.
            return .replaced([.log(.warning, "[\(name)] \(of): \(EngineWording.outcome(outcome)); the file was replaced while its call was in flight, so this result goes into no file and the new file is a new call, due at its own mtime"),
                              .emit(.replacedInFlight(file: name))])
        }
        if attempt.cancelled {
            // Its outcome is not acted on (no retry, no Completed).
            return .finish([.log(.notice, "[\(name)] \(of): ended after spoold cancel hung it up")],
                           FinishPlan(.cancelled, "Cancelled during attempt \(attempt.number) of \(file.maxRetries + 1)", file), info: nil)
        }
        let own = attempt.ownMtime
        switch outcome {
        case .completed:
            return .finish([.log(.notice, "[\(name)] \(of): answered\(finishAtAnswer ? "" : " and hung up")")],
                           FinishPlan(.completed, "Completed on attempt \(attempt.number) of \(file.maxRetries + 1)", file, ownMtime: own),
                           info: info)
        case .rejected(let message):
            return .finish([.log(.error, "[\(name)] \(of): \(EngineWording.outcome(outcome)); not retried")],
                           FinishPlan(.failed, "Failed (\(message))", file, ownMtime: own), info: info)
        case .notPlaced:
            // Never reached the PBX: the StartRetry comes back out, as if the file had not been touched.
            return .takeBack([.log(.warning, "[\(name)] \(of): \(EngineWording.outcome(outcome)); nothing counted, the file waits for the backend"),
                              .truncate(name, length: attempt.lengthBefore, mtime: attempt.mtimeBefore)])
        case .failed(let reason, _):
            var (left, summary) = ("no attempts left", "Expired after \(attempt.number) attempts")
            let next = nextAttempt(reason: reason, rules: rules)
            if case .never(let retryRule) = next { (left, summary) = ("\(retryRule): no more attempts", summary + " (\(retryRule))") }
            guard attempt.number < file.maxRetries + 1, case .at(let due, _) = next else {
                return .finish([.log(.notice, "[\(name)] \(of): \(EngineWording.outcome(outcome)); \(left)")],
                               FinishPlan(.expired, summary, file, ownMtime: own), info: info)
            }
            let record = RetryRecord(kind: .end, pid: pid, number: attempt.number, epoch: ended.seconds, line: nil)
            return .writeEnd(.appendRecord(name, record.bytes, atime: due, mtime: due, statAfter: false))
        }
    }

    /// The EndRetry record's result (only a failed attempt writes one). A times failure is the core's to note.
    func recorded(_ result: Result<SpoolStateMachine.Appended, SpoolStateMachine.StepFailure>, rules: CallingRules) -> Recorded {
        guard case .failed(let reason, _) = outcome else { return .retry([], due: nil) }
        let (of, cause) = (EngineWording.attempt(attempt), EngineWording.outcome(outcome))
        var lines: [Action] = []
        switch result {
        case .success: break
        case .failure(let failure) where failure.isNoEntry:
            return .gone(.log(.notice, "[\(name)] \(of): \(cause); the file was removed meanwhile, so nothing more is done"))
        case .failure(let failure):
            lines = [.log(.error, "[\(name)] cannot write the EndRetry record: \(failure); spoold keeps the count (\(attempt.number) attempts) in memory")]
        }
        // The same answer as when the attempt ended: `never` finished the file there.
        guard case .at(let due, let retryRule) = nextAttempt(reason: reason, rules: rules) else { return .retry(lines, due: nil) }
        return .retry(lines + [.log(.notice, "[\(name)] \(of): \(cause); next attempt at \(due.timeOfDay)\(retryRule.map { " (\($0))" } ?? "")"),
                               .emit(.retryScheduled(file: name, attempt: attempt.number, reason: reason, nextDue: due))], due: due)
    }

    /// The StartRetry of a call that never reached the PBX was taken back out (or `failure` said why not).
    func takenBack(_ failure: SpoolStateMachine.StepFailure?) -> [Action] {
        (failure.map { [.log(.error, "[\(name)] cannot take back the StartRetry record: \($0); the attempt will count as aborted")] } ?? [])
            + [.emit(.notPlaced(file: name))]
    }

    /// The next attempt after a failed one: by the `[retry:PATTERN]` rule for its outcome, else RetryTime.
    func nextAttempt(reason: Int, rules: CallingRules) -> CallingRules.Retry {
        rules.retry(channel: attempt.file.channel?.description ?? "", reason: reason, retryTime: attempt.file.retryTime, ended: ended)
    }
}
