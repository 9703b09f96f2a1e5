/// Facts the engine derives from a parsed file, computed the way Asterisk computes them (reference §5.1).
extension CallFile {
    /// `k`: every `Retry`, `EndRetry` and `AbortRetry` line counts one finished attempt.
    public var finishedAttempts: Int {
        records.reduce(0) { $0 + ($1.kind.countsAsFinishedAttempt ? 1 : 0) }
    }

    /// The last `StartRetry` that no `EndRetry` or `AbortRetry` follows: an attempt that was in flight
    /// when its spool stopped. Its pid may be 0 when the line's pid did not parse.
    public var inFlightStart: RetryRecord? {
        var open: RetryRecord?
        for record in records {
            switch record.kind {
            case .start: open = record
            case .end, .abort: open = nil
            case .retry, .delayed: break
            }
        }
        return open
    }

    /// The `Codecs` list to send over AMI, where the header replaces the set instead of extending
    /// `slin`: so it is `slin` plus the file's changes, computed here.
    public var finalCodecs: [String] {
        Codecs.final(for: codecLines)
    }

    /// One variable per name, holding the last value set, in the order names first appeared.
    /// Asterisk applies Set lines in order so the last wins; AMI keeps the first, so send these.
    public var effectiveVariables: [Variable] {
        var positions: [String: Int] = [:]
        var result: [Variable] = []
        for variable in variables {
            if let position = positions[variable.name] {
                result[position].value = variable.value
            } else {
                positions[variable.name] = result.count
                result.append(variable)
            }
        }
        return result
    }
}
