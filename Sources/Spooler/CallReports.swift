import Synchronization

/// What the backend said about calls in flight, kept until the engine's loop takes it all at once: one
/// wake-up of the engine for many calls' news, instead of a task and a stream per call.
final class CallReports: Sendable {
    struct Report {
        var name: String
        /// Which attempt the report belongs to (`SpoolEngine.Attempt.token`): a late report of an attempt
        /// that is over never reaches the file's next one.
        var token: UInt64
        /// nil: the backend has nothing more to say about this call.
        var stage: CallStage?
    }

    private let reports = Mutex<[Report]>([])

    /// Keeps a report; true when it is the first since the last `take`, so the loop needs waking.
    func add(_ report: Report) -> Bool {
        reports.withLock { reports in
            reports.append(report)
            return reports.count == 1
        }
    }

    /// Every report since the last call, in the order they came.
    func take() -> [Report] {
        reports.withLock { reports in
            defer { reports.removeAll(keepingCapacity: true) }
            return reports
        }
    }
}
