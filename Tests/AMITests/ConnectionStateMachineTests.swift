import Testing
@testable import AMI

@Suite struct ConnectionStateMachineTests {
    typealias Machine = AMIConnectionStateMachine

    static func machine(md5: Bool = false, filter: Bool = false) -> Machine {
        Machine(
            settings: .init(username: "hello", secret: AMISecret("world"), useMD5: md5, useServerFilter: filter),
            actionIDPrefix: "t-"
        )
    }

    static func written(_ actions: [Machine.Action]) -> [AMIMessage] {
        actions.compactMap { if case .write(let message) = $0 { return message } else { return nil } }
    }

    /// Brings a machine to active by plain login.
    static func active(filter: Bool = false) -> Machine {
        var machine = machine(filter: filter)
        _ = machine.connected()
        _ = machine.received(.banner("Asterisk Call Manager/11.0.0"))
        _ = machine.received(.message(AMIMessage(["Response": "Success", "ActionID": "t-login", "Message": "Authentication accepted"])))
        return machine
    }

    @Test func plainLoginAsInTheTranscript() {
        var machine = Self.machine()
        #expect(machine.connected() == [.startTimer(.response)])
        let login = machine.received(.banner("Asterisk Call Manager/11.0.0"))
        #expect(Self.written(login) == [AMIMessage([
            "Action": "Login", "Username": "hello", "Secret": "world", "Events": "call", "ActionID": "t-login",
        ])])
        #expect(login.contains(.startTimer(.response)))
        // Events during login are ignored; the response makes it ready.
        #expect(machine.received(.message(AMIMessage(["Event": "FullyBooted"]))) == [])
        let ready = machine.received(.message(AMIMessage(["Response": "Success", "ActionID": "t-login", "Message": "Authentication accepted"])))
        #expect(ready == [.cancelTimer(.response), .ready(version: "11.0.0", serverFilter: false)])
        #expect(machine.isActive)
    }

    @Test func md5LoginSendsTheLowercaseHexDigestOfChallengeAndSecret() {
        var machine = Self.machine(md5: true)
        _ = machine.connected()
        let challenge = machine.received(.banner("Asterisk Call Manager/11.0.0"))
        #expect(Self.written(challenge) == [AMIMessage(["Action": "Challenge", "AuthType": "MD5", "ActionID": "t-challenge"])])
        let login = machine.received(.message(AMIMessage(["Response": "Success", "ActionID": "t-challenge", "Challenge": "840255325"])))
        let message = Self.written(login).first
        #expect(message?["AuthType"] == "MD5")
        #expect(message?["Secret"] == nil, "the secret never crosses the wire with MD5")
        // md5("840255325world"), computed independently with coreutils md5sum.
        #expect(message?["Key"] == "2b8e7b29d1db58fa0b8f93c94589f34c")
    }

    @Test func md5KeyMatchesKnownDigests() {
        // md5("") and md5("abc") from RFC 1321's test suite.
        #expect(Machine.md5Key(challenge: "", secret: "") == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(Machine.md5Key(challenge: "a", secret: "bc") == "900150983cd24fb0d6963f7d28e17f72")
    }

    @Test func wrongSecretClosesWithAuthenticationFailed() {
        var machine = Self.machine()
        _ = machine.connected()
        _ = machine.received(.banner("Asterisk Call Manager/11.0.0"))
        let actions = machine.received(.message(AMIMessage(["Response": "Error", "ActionID": "t-login", "Message": "Authentication failed"])))
        #expect(actions.last == .close(.authenticationFailed("Authentication failed")))
        #expect(!machine.isActive)
        #expect(machine.received(.message(AMIMessage(["Response": "Success"]))) == [], "nothing after close")
    }

    @Test func somethingOtherThanAsteriskIsRefused() {
        var machine = Self.machine()
        _ = machine.connected()
        #expect(machine.received(.banner("SSH-2.0-OpenSSH_9.6")).last == .close(.notAnAMIServer("SSH-2.0-OpenSSH_9.6")))
    }

    @Test func silentServerTimesOutEachLoginStep() {
        var machine = Self.machine()
        _ = machine.connected()
        #expect(machine.timerFired(.response).last == .close(.timeout("no banner from the server")))
        var login = Self.machine()
        _ = login.connected()
        _ = login.received(.banner("Asterisk Call Manager/11.0.0"))
        #expect(login.timerFired(.response).last == .close(.timeout("no answer to the login")))
    }

    @Test func filtersAreAddedAndARefusalIsNotFatal() {
        var machine = Self.machine(filter: true)
        _ = machine.connected()
        _ = machine.received(.banner("Asterisk Call Manager/11.0.0"))
        let filters = machine.received(.message(AMIMessage(["Response": "Success", "ActionID": "t-login"])))
        #expect(Self.written(filters).map { $0["Filter"] } == ["Event: OriginateResponse", "Event: Hangup"])
        #expect(Self.written(filters).allSatisfy { $0["Action"] == "Filter" && $0["Operation"] == "Add" })
        #expect(machine.received(.message(AMIMessage(["Response": "Error", "ActionID": "t-filter-0", "Message": "Permission denied"]))) == [])
        let ready = machine.received(.message(AMIMessage(["Response": "Error", "ActionID": "t-filter-1", "Message": "Permission denied"])))
        #expect(ready == [.cancelTimer(.response), .ready(version: "11.0.0", serverFilter: false)])
    }

    @Test func acceptedFiltersAreReported() {
        var machine = Self.machine(filter: true)
        _ = machine.connected()
        _ = machine.received(.banner("Asterisk Call Manager/11.0.0"))
        _ = machine.received(.message(AMIMessage(["Response": "Success", "ActionID": "t-login"])))
        _ = machine.received(.message(AMIMessage(["Response": "Success", "ActionID": "t-filter-0"])))
        #expect(machine.received(.message(AMIMessage(["Response": "Success", "ActionID": "t-filter-1"]))).last == .ready(version: "11.0.0", serverFilter: true))
    }

    @Test func keepalivePingAndItsTimeout() {
        var machine = Self.active()
        let ping = machine.readIdle()
        #expect(Self.written(ping) == [AMIMessage(["Action": "Ping", "ActionID": "t-ping-1"])])
        #expect(ping.last == .startTimer(.ping))
        #expect(machine.readIdle() == [], "one ping at a time")
        #expect(machine.received(.message(AMIMessage(["Response": "Success", "ActionID": "t-ping-1", "Ping": "Pong"]))) == [.cancelTimer(.ping)])
        #expect(machine.timerFired(.ping) == [], "a late timer after the pong does nothing")
        _ = machine.readIdle()
        #expect(machine.timerFired(.ping).last == .close(.keepaliveTimeout))
    }

    @Test func activeMessagesAreDelivered() {
        var machine = Self.active()
        // Before any keepalive, a message without ActionID must not pass for its answer.
        let hangup = AMIMessage(["Event": "Hangup", "Uniqueid": "u"])
        #expect(machine.received(.message(hangup)) == [.deliver(hangup)])
        let event = AMIMessage(["Event": "OriginateResponse", "ActionID": "x-1", "Response": "Success"])
        #expect(machine.received(.message(event)) == [.deliver(event)])
        #expect(machine.received(.banner("Asterisk Call Manager/11.0.0")).last == .close(.protocolError("a second banner")))
    }

    @Test func logoffWaitsForGoodbyeThenCloses() {
        var machine = Self.active()
        let logoff = machine.logoff()
        #expect(Self.written(logoff) == [AMIMessage(["Action": "Logoff", "ActionID": "t-logoff"])])
        let late = AMIMessage(["Event": "Hangup", "Uniqueid": "u"])
        #expect(machine.received(.message(late)) == [.deliver(late)], "results still arrive while closing")
        #expect(machine.received(.message(AMIMessage(["Response": "Goodbye", "ActionID": "t-logoff"]))).last == .close(nil))
    }

    @Test func logoffWithoutGoodbyeClosesAfterTheTimeout() {
        var machine = Self.active()
        _ = machine.logoff()
        #expect(machine.timerFired(.response).last == .close(nil))
    }

    @Test func logoffBeforeLoginJustCloses() {
        var machine = Self.machine()
        _ = machine.connected()
        #expect(machine.logoff().last == .close(nil))
    }

    @Test func errorsClose() {
        var machine = Self.active()
        #expect(machine.errorCaught(.protocolError("x")).last == .close(.protocolError("x")))
        #expect(machine.errorCaught(.protocolError("y")) == [], "closed once")
    }
}

@Suite struct ReconnectBackoffTests {
    @Test func doublesWithJitterUpToTheCapAndResets() {
        var backoff = ReconnectBackoff(initialDelay: .milliseconds(100), maximumDelay: .seconds(1))
        var generator = SystemRandomNumberGenerator()
        let ceilings: [Duration] = [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)]
        for ceiling in ceilings {
            #expect(backoff.ceilingForNextAttempt == ceiling)
            let delay = backoff.nextDelay(using: &generator)
            #expect(delay <= ceiling && delay >= ceiling / 2)
        }
        for _ in 0..<100 { _ = backoff.nextDelay(using: &generator) }
        #expect(backoff.ceilingForNextAttempt == .seconds(1), "no overflow after many failures")
        backoff.reset()
        #expect(backoff.ceilingForNextAttempt == .milliseconds(100))
    }

    @Test func jitterSpreadsDelays() {
        var generator = SystemRandomNumberGenerator()
        var delays = Set<Duration>()
        for _ in 0..<20 {
            var backoff = ReconnectBackoff(initialDelay: .seconds(1), maximumDelay: .seconds(1))
            delays.insert(backoff.nextDelay(using: &generator))
        }
        #expect(delays.count > 1)
    }
}
