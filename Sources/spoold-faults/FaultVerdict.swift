import Foundation
import TestSupport

/// A window in which no spoold was watching the calls (from the kill until the next launch).
struct Downtime {
    let from: Double
    let until: Double
}

/// Checks what a fault run left behind against what must be true, and collects every violation.
struct FaultVerdict {
    private(set) var failures: [String] = []
    private(set) var statusCounts: [String: Int] = [:]
    private(set) var dials = 0
    /// Answered files that ended Expired because faults used up every attempt (legitimate, counted).
    private(set) var answeredButExpired = 0
    /// Never-answering channels archived Completed: bug B1 (an adopted call that was only ringing).
    /// Completed although the last call ended while no spoold was running: issue E2E-5.
    private(set) var completedWhileDown: [String] = []

    var passed: Bool { failures.isEmpty && completedWhileDown.isEmpty }

    mutating func fail(_ message: String) {
        failures.append(message)
    }

    /// - Every file is archived exactly once (`outgoing_done/<name>`, no `.N` copy, no staging leftover,
    ///   nothing left in `outgoing/`), starts with its original bytes, and ends with one Status line.
    /// - No file is dialled more often than MaxRetries + 1, and every dial carries the ChannelId of a
    ///   StartRetry record in the archived file (no call without its record, no ChannelId twice).
    /// - Status: Expired for calls that never answer; Completed for answered calls, or Expired only when
    ///   every attempt was used up.
    /// `othersPrefix`: archives and dials of files checked separately by the caller.
    static func check(_ calls: [FaultCall], spool: TemporarySpool, log: DialLog, downtimes: [Downtime] = [],
                      othersPrefix: String? = nil) -> FaultVerdict {
        var verdict = FaultVerdict()
        let dialsByFile = log.byFile()
        let expected = Set(calls.map(\.name))
        let isOther = { (name: String) in othersPrefix.map { name.hasPrefix($0) } ?? false }
        let done = spool.doneNames().filter { !isOther($0) }
        let pending = spool.pendingNames()
        if !pending.isEmpty {
            verdict.fail("\(pending.count) files still in outgoing/, e.g. \(pending.sorted().prefix(5))")
        }
        for name in done where !expected.contains(name) && !name.hasPrefix(".") {
            verdict.fail("unexpected archive \(name) (a second copy or a stray file)")
        }
        for name in done where name.hasPrefix(".") {
            verdict.fail("staging leftover outgoing_done/\(name)")
        }
        for file in dialsByFile.keys where !expected.contains(file) && !isOther(file) {
            verdict.fail("dials for unknown file '\(file)'")
        }
        let doneSet = Set(done)
        for call in calls {
            let dials = dialsByFile[call.name] ?? []
            verdict.dials += dials.count
            if dials.count > call.attempts {
                verdict.fail("\(call.name): dialled \(dials.count) times, at most \(call.attempts) allowed")
            }
            let channelIds = dials.map(\.channelId)
            if Set(channelIds).count != channelIds.count {
                verdict.fail("\(call.name): a ChannelId was dialled twice: \(channelIds)")
            }
            guard doneSet.contains(call.name), let bytes = spool.read(spool.done + "/" + call.name) else {
                verdict.fail("\(call.name): not archived (lost)")
                continue
            }
            if !bytes.starts(with: call.bytes) {
                verdict.fail("\(call.name): archive does not start with the submitted contents (corrupted)")
            }
            let records = ArchivedRecords(bytes)
            guard records.statuses.count == 1, records.statusIsLast, let status = records.statuses.first else {
                verdict.fail("\(call.name): Status lines \(records.statuses), last line is Status: \(records.statusIsLast)")
                continue
            }
            verdict.statusCounts[status, default: 0] += 1
            let recorded = Set(records.starts.map { "-\($0.epoch)-\($0.attempt)" })
            for id in channelIds where !recorded.contains(where: { id.hasSuffix($0) }) {
                verdict.fail("\(call.name): dial \(id) has no StartRetry record in the file")
            }
            if records.starts.count > call.attempts {
                verdict.fail("\(call.name): \(records.starts.count) StartRetry records, at most \(call.attempts) attempts")
            }
            switch (call.answers, status) {
            case (true, "Completed"):
                if dials.isEmpty { verdict.fail("\(call.name): Completed without ever being dialled") }
                if let last = dials.last, let window = downtimes.first(where: { last.estimatedEnd > $0.from + 0.4 && last.estimatedEnd < $0.until - 0.4 }) {
                    verdict.completedWhileDown.append(
                        "\(call.name): Completed, but its last call \(last.channelId) ended at \(String(format: "%.2f", last.estimatedEnd)) "
                        + "while spoold was down (\(String(format: "%.2f-%.2f", window.from, window.until))); records: "
                        + "\(records.starts.count) StartRetry, \(records.aborts) AbortRetry, \(records.ends) EndRetry")
                }
            case (true, "Expired"):
                if records.starts.count == call.attempts, records.finishedAttempts >= call.attempts - 1 {
                    verdict.answeredButExpired += 1
                } else {
                    verdict.fail("\(call.name): answering call Expired with attempts left (\(records.starts.count) of \(call.attempts) started)")
                }
            case (false, "Expired"):
                if records.starts.count != call.attempts {
                    verdict.fail("\(call.name): Expired after \(records.starts.count) StartRetry records, expected \(call.attempts)")
                }
            case (false, "Completed"):
                verdict.fail("\(call.name): Completed, but \(call.channel) never answers "
                             + "(\(records.starts.count) StartRetry, \(dials.count) dials)")
            default:
                verdict.fail("\(call.name): Status \(status), channel \(call.channel)")
            }
        }
        return verdict
    }

    func report(_ label: String) -> [String] {
        var lines = ["\(label): statuses \(statusCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")); "
                     + "\(dials) dials at the server; answered calls Expired by faults: \(answeredButExpired)"]
        for failure in failures.prefix(20) { lines.append("  FAIL \(failure)") }
        if failures.count > 20 { lines.append("  … \(failures.count - 20) more failures") }
        for suspect in completedWhileDown.prefix(10) { lines.append("  E2E-5 \(suspect)") }
        if completedWhileDown.count > 10 { lines.append("  … \(completedWhileDown.count - 10) more E2E-5 cases") }
        return lines
    }
}
