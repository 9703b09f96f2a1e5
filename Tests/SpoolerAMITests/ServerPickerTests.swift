import AMI
import Testing
@testable import Spooler
@testable import SpoolerAMI

/// The pool's decisions, fed by hand: which server gets each call, and each server's limits.
@Suite("Server picker")
struct ServerPickerTests {
    static let t0 = SpoolInstant(seconds: 1_795_364_000)

    static func picker(_ selection: AMIServerSelection, _ limits: [(weight: Int, maxConcurrent: Int, maxCallsPerSecond: Double)],
                       connected: [Bool]? = nil) -> ServerPicker {
        var picker = ServerPicker(selection: selection, limits: limits)
        for (index, up) in (connected ?? Array(repeating: true, count: limits.count)).enumerated() {
            picker.setConnected(index, up)
        }
        return picker
    }

    /// Picks `count` calls at `now` (none ending), nil where no server could take one.
    static func picks(_ picker: inout ServerPicker, _ count: Int, now: SpoolInstant = t0) -> [Int?] {
        (0..<count).map { _ in picker.pick(now: now) }
    }

    @Test("Failover: always the first connected server while it has room")
    func failoverPrefersTheFirst() {
        var picker = Self.picker(.failover, [(1, 0, 0), (1, 0, 0), (1, 0, 0)])
        #expect(Self.picks(&picker, 5) == [0, 0, 0, 0, 0])
        picker.setConnected(0, false)
        #expect(Self.picks(&picker, 2) == [1, 1])
        picker.setConnected(1, false)
        #expect(picker.pick(now: Self.t0) == 2)
        picker.setConnected(0, true)
        #expect(picker.pick(now: Self.t0) == 0, "back to the first as soon as it is up again")
    }

    @Test("Failover: the next server takes over while the first is full, and the first again when a slot frees")
    func failoverOverflowsWhenFull() {
        var picker = Self.picker(.failover, [(1, 2, 0), (1, 1, 0)])
        #expect(Self.picks(&picker, 4) == [0, 0, 1, nil])
        #expect(picker.inFlight(0) == 2 && picker.inFlight(1) == 1)
        picker.finished(1)
        #expect(picker.pick(now: Self.t0) == 1)
        picker.finished(0)
        #expect(picker.pick(now: Self.t0) == 0)
    }

    @Test("Spread: smooth weighted round-robin gives each server its share, interleaved")
    func spreadByWeight() {
        var picker = Self.picker(.spread, [(3, 0, 0), (1, 0, 0)])
        #expect(Self.picks(&picker, 8) == [0, 0, 1, 0, 0, 0, 1, 0])
        var three = Self.picker(.spread, [(5, 0, 0), (1, 0, 0), (1, 0, 0)])
        #expect(Self.picks(&three, 7) == [0, 0, 1, 0, 2, 0, 0])
        var equal = Self.picker(.spread, [(1, 0, 0), (1, 0, 0)])
        #expect(Self.picks(&equal, 4) == [0, 1, 0, 1])
    }

    @Test("Spread: over a long run every server gets exactly its weight's share")
    func spreadShares() {
        var picker = Self.picker(.spread, [(2, 0, 0), (3, 0, 0), (5, 0, 0)])
        let picks = Self.picks(&picker, 1000)
        #expect(picks.filter { $0 == 0 }.count == 200)
        #expect(picks.filter { $0 == 1 }.count == 300)
        #expect(picks.filter { $0 == 2 }.count == 500)
    }

    @Test("Spread: a disconnected or full server is skipped, the others share its load by their weights")
    func spreadSkipsUnavailable() {
        var picker = Self.picker(.spread, [(3, 0, 0), (1, 0, 0), (1, 0, 0)], connected: [false, true, true])
        #expect(Self.picks(&picker, 4) == [1, 2, 1, 2])
        var full = Self.picker(.spread, [(3, 1, 0), (1, 0, 0)])
        #expect(Self.picks(&full, 4) == [0, 1, 1, 1], "the first is full after one call")
    }

    @Test("Nothing connected: no pick, and the engine waits for a login")
    func nothingConnected() {
        var picker = Self.picker(.spread, [(1, 0, 0), (1, 0, 0)], connected: [false, false])
        #expect(!picker.anyConnected)
        #expect(picker.nextCallAllowed(now: Self.t0) == nil)
        #expect(picker.pick(now: Self.t0) == nil)
        picker.setConnected(1, true)
        #expect(picker.anyConnected)
        #expect(picker.nextCallAllowed(now: Self.t0) == Self.t0)
    }

    @Test("Max in flight per server: never exceeded, and a finished call frees exactly one slot")
    func maxConcurrentPerServer() {
        for selection in AMIServerSelection.allCases {
            var picker = Self.picker(selection, [(1, 2, 0), (1, 3, 0)])
            #expect(Self.picks(&picker, 6).compactMap { $0 }.count == 5)
            #expect(picker.inFlight(0) == 2 && picker.inFlight(1) == 3)
            #expect(picker.nextCallAllowed(now: Self.t0) == nil, "every server full: wait for a call to end")
            picker.finished(1)
            #expect(picker.nextCallAllowed(now: Self.t0) == Self.t0)
            #expect(picker.pick(now: Self.t0) == 1)
            #expect(picker.pick(now: Self.t0) == nil)
        }
    }

    @Test("Calls per second per server: the next call waits for the earliest server whose rate allows it")
    func ratePerServer() {
        var picker = Self.picker(.failover, [(1, 0, 2), (1, 0, 4)])
        // 2/s on the first, 4/s on the second: as CallLimiter, each takes one call more than its rate in
        // a burst (a caller up to one interval late keeps its slot), then waits for its next slot.
        #expect(Self.picks(&picker, 5) == [0, 0, 1, 1, nil])
        let allowed = picker.nextCallAllowed(now: Self.t0)
        #expect(allowed == Self.t0.adding(.milliseconds(250)), "the second server's next slot comes first")
        #expect(picker.pick(now: Self.t0.adding(.milliseconds(250))) == 1)
        #expect(picker.pick(now: Self.t0.adding(.milliseconds(500))) == 0)
    }

    @Test("A full server's rate does not count: only connected servers with a free slot can wake the engine early")
    func rateOfFullServerIgnored() {
        var picker = Self.picker(.failover, [(1, 1, 1), (1, 0, 1)], connected: [true, false])
        #expect(picker.pick(now: Self.t0) == 0)
        #expect(picker.nextCallAllowed(now: Self.t0) == nil, "the first is full, the second is down")
        picker.setConnected(1, true)
        #expect(picker.nextCallAllowed(now: Self.t0) == Self.t0)
    }

    @Test("The server list is checked: names, weights and limits, each error naming the server")
    func listChecks() {
        let configuration = AMIConfiguration(host: "127.0.0.1", username: "u", secret: AMISecret("s"))
        func check(_ servers: [AMIServer]) -> String? {
            do {
                try AMIServerListError.check(servers)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(check([]) == "no AMI server configured")
        #expect(check([AMIServer(name: "a", configuration: configuration)]) == nil)
        #expect(check([AMIServer(name: "a", configuration: configuration), AMIServer(name: "a", configuration: configuration)])
            == "AMI server \"a\" is listed twice; names must be unique")
        #expect(check([AMIServer(name: "", configuration: configuration)]) == "an AMI server has an empty name")
        #expect(check([AMIServer(name: "b", configuration: configuration, weight: 0)]) == "AMI server \"b\": weight must be 1 or more (it is 0)")
        #expect(check([AMIServer(name: "c", configuration: configuration, maxConcurrent: -1)])?.hasPrefix("AMI server \"c\": max_concurrent") == true)
        #expect(check([AMIServer(name: "d", configuration: configuration, maxCallsPerSecond: -2)])?.hasPrefix("AMI server \"d\": max_cps") == true)
        #expect(check([AMIServer(name: "e", configuration: configuration, maxCallsPerSecond: .infinity)])?.hasPrefix("AMI server \"e\": max_cps") == true)
    }

    @Test("ModuleCheck answers: loaded, not loaded, or unknown with the reason")
    func moduleCheckAnswers() {
        #expect(SpoolModuleState(response: AMIMessage(["Response": "Success", "ActionID": "1", "Version": ""])) == .loaded)
        #expect(SpoolModuleState(response: AMIMessage(["Response": "Success", "ActionID": "1"])) == .loaded)
        #expect(SpoolModuleState(response: AMIMessage(["Response": "Error", "ActionID": "1", "Message": "Module not loaded"])) == .notLoaded)
        #expect(SpoolModuleState(response: AMIMessage(["Response": "Error", "Message": "Permission denied"])) == .unknown("Permission denied"))
        #expect(SpoolModuleState(response: AMIMessage(["Response": "Follows"])) == .unknown("Response: Follows"))
        #expect(SpoolModuleState.request == AMIMessage(["Action": "ModuleCheck", "Module": "pbx_spool"]))
        let loaded = SpoolModuleState.loaded.advice(server: "pbx-a", address: "10.0.0.1:5038")
        #expect(loaded?.warning == true)
        #expect(loaded?.text.contains("pbx-a") == true && loaded?.text.contains("noload => pbx_spool.so") == true)
        #expect(SpoolModuleState.notLoaded.advice(server: "pbx-a", address: "x") == nil)
        #expect(SpoolModuleState.unknown("Permission denied").advice(server: "b", address: "x")?.warning == false)
    }
}
