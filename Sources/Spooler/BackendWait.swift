/// Whether due files wait for a backend that cannot take calls (no AMI connection, or Asterisk stopping): one
/// warning when they start waiting, naming the first due, and one notice when the backend is ready again, not
/// a line at every look. Nothing is counted meanwhile; due files wait in due order.
///
/// A type of its own so that these lines are tested on their own (`BackendWaitTests`); the core looks at each
/// tick. Pure.
struct BackendWait: Sendable {
    private(set) var waiting = false

    /// The backend can take calls: the notice, if files were waiting for it.
    mutating func ready() -> SpoolStateMachine.Action? {
        guard waiting else { return nil }
        waiting = false
        return .log(.notice, "the backend is ready again; placing the calls that are due")
    }

    /// The backend cannot take calls and a file is due (`firstDue`: the earliest, nil when unknown): the warning,
    /// once until the backend is ready again.
    mutating func cannotTakeCalls(firstDue: String?) -> SpoolStateMachine.Action? {
        guard !waiting else { return nil }
        waiting = true
        return .log(.warning, "[\(firstDue ?? "?")] due, but the backend cannot take calls (no AMI connection, or Asterisk is stopping); due files wait in due order, nothing is counted")
    }
}
