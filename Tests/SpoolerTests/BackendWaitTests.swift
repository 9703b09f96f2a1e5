import Testing
@testable import Spooler

/// `BackendWait`: looks at a backend that cannot take calls, in order → one warning, then one notice.
@Suite("Waiting for the backend")
struct BackendWaitTests {
    static let warning = SpoolStateMachine.Action.log(.warning, "[a.call] due, but the backend cannot take calls (no AMI connection, or Asterisk is stopping); due files wait in due order, nothing is counted")
    static let notice = SpoolStateMachine.Action.log(.notice, "the backend is ready again; placing the calls that are due")

    @Test("One warning when due files start waiting, none at the following looks; one notice when it is ready again")
    func lines() {
        var wait = BackendWait()
        #expect(wait.ready() == nil && !wait.waiting)  // ready all along: nothing said
        #expect(wait.cannotTakeCalls(firstDue: "a.call") == Self.warning && wait.waiting)
        #expect(wait.cannotTakeCalls(firstDue: "b.call") == nil)
        #expect(wait.ready() == Self.notice && !wait.waiting)
        #expect(wait.ready() == nil)
        // A second outage is said again; an unknown first due is named "?".
        #expect(wait.cannotTakeCalls(firstDue: nil) == .log(.warning, "[?] due, but the backend cannot take calls (no AMI connection, or Asterisk is stopping); due files wait in due order, nothing is counted"))
    }
}
