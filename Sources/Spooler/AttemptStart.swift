import CallFile

/// What the result of an attempt's StartRetry record means (contract §2.8, §3): the call is placed only once
/// the record is in the file. Written: the call goes out (the attempt keeps the length before the record and
/// the file's identity, to take the record back out or to tell a replaced file later). The file removed
/// meanwhile: forgotten. Refused for lack of permission too often in a row: Failed and moved aside, never
/// dialled. Any other failure: no call placed, the step tried again shortly.
///
/// A type of its own so that these are tested case by case (`AttemptStartTests`), with their lines and events;
/// the core applies them (the refusals count in the file's memos, slots, states, schedule). Pure.
struct AttemptStart {
    typealias Action = SpoolStateMachine.Action
    let name: String, attempt: CallAttempt

    enum Decision: Equatable {
        case gone
        /// Refused once too often in a row: these lines, then moved aside by the plan.
        case refusedForGood([Action], FinishPlan)
        /// Not written: no call placed; these lines, and the file is due again then.
        case retry([Action], at: SpoolInstant)
        /// No call can be made of the file: its entry goes.
        case unplaceable
        /// In the file: this attempt is in flight on `channel` (for the trunk limits); these lines, the last
        /// of which places its call.
        case place(CallAttempt, channel: String, [Action])
    }

    /// `refusedInARow`: the failure is a refusal that makes `FileMemos.recordWriteRefusalLimit` in a row (the
    /// core counts it). `ownership`: spoold's uid, for the log (built only for a failure's line: a text per
    /// attempt cost as much as the rest of this decision). `latency`: the attempt's from its due time.
    func decide(_ result: Result<SpoolStateMachine.Appended, SpoolStateMachine.StepFailure>, refusedInARow: Bool,
                ownership: @autoclosure () -> String, stepRetryDelay: Duration, now: SpoolInstant) -> Decision {
        let appended: SpoolStateMachine.Appended
        switch result {
        case .success(let done): appended = done
        case .failure(let failure):
            if failure.isNoEntry { return .gone }
            if refusedInARow {
                let (owner, refusals) = (failure.infoAfter?.ownership ?? "owner unknown", FileMemos.recordWriteRefusalLimit)
                return .refusedForGood([.log(.error, "[\(name)] cannot write retry records (\(failure); \(owner); \(ownership())), \(refusals) times in a row; never dialled. Fix: chown the call files to the spoold user, or make them writable by it")],
                                       .aside("retry records cannot be written"))
            }
            let (step, retryAt) = ("write the StartRetry record", now.adding(stepRetryDelay))
            let owner = failure.infoAfter.map { "; \($0.ownership), \(ownership())" } ?? ""
            return .retry([.log(.error, "[\(name)] cannot \(step): \(failure)\(owner); no call placed, trying again at \(retryAt.timeOfDay)"),
                           .emit(.stepFailed(file: name, step: step))], at: retryAt)
        }
        guard let request = CallRequest(file: attempt.file, attempt: attempt.number, channelId: attempt.channelId) else { return .unplaceable }
        var attempt = attempt
        (attempt.lengthBefore, attempt.fileID) = (appended.lengthBefore, appended.fileID)
        let lines: [Action] = [
            .debug(.dialling(name: name, attempt: attempt.number, of: attempt.file.maxRetries + 1, channel: attempt.file.channel,
                             channelId: attempt.channelId)),
            .emit(.attemptStarted(file: name, attempt: attempt.number, channelId: attempt.channelId)),
            .emit(.attemptDialled(file: name, attempt: attempt.number, latency: now.duration(since: attempt.mtimeBefore))),
            .place(name, request, token: attempt.token)]
        return .place(attempt, channel: request.channel, lines)
    }
}
