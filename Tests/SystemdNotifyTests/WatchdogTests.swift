import Logging
import ServiceLifecycle
import TestSupport
import Testing
@testable import SystemdNotify

@Suite("Watchdog state machine")
struct WatchdogStateMachineTests {
    @Test("The first tick asks the engine and reports nothing yet")
    func firstTick() {
        var machine = WatchdogStateMachine()
        #expect(machine.tick() == .init(report: nil, startProbe: true, silentTicks: 0))
    }

    @Test("An answer is reported (and the watchdog fed) at the next tick, which asks again")
    func answered() {
        var machine = WatchdogStateMachine()
        _ = machine.tick()
        machine.answered("4 scheduled, 1 in flight")
        #expect(machine.tick() == .init(report: "4 scheduled, 1 in flight", startProbe: true, silentTicks: 0))
        machine.answered("3 scheduled, 2 in flight")
        #expect(machine.tick() == .init(report: "3 scheduled, 2 in flight", startProbe: true, silentTicks: 0))
    }

    @Test("A wedged engine: no report, no second question, silent ticks counted; an answer resumes the pets")
    func wedged() {
        var machine = WatchdogStateMachine()
        _ = machine.tick()
        #expect(machine.tick() == .init(report: nil, startProbe: false, silentTicks: 1))
        #expect(machine.tick() == .init(report: nil, startProbe: false, silentTicks: 2))
        machine.answered("late")
        #expect(machine.tick() == .init(report: "late", startProbe: true, silentTicks: 0))
    }

    @Test("An answer is reported once: the next tick without a new answer stays silent")
    func reportedOnce() {
        var machine = WatchdogStateMachine()
        _ = machine.tick()
        machine.answered("x")
        _ = machine.tick()
        #expect(machine.tick().report == nil)
    }
}

@Suite("WatchdogService against a real datagram socket")
struct WatchdogServiceTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test("Feeds the watchdog with the probe's status while the probe answers")
    func feeds() async throws {
        let receiver = try DatagramReceiver()
        let notifier = try SystemdNotifier(address: NotifySocketAddress(receiver.address), logger: logger)
        let service = WatchdogService(notifier: notifier, watchdogInterval: .milliseconds(50), logger: logger) {
            "5 scheduled, 2 in flight"
        }
        let running = Task { try await service.run() }
        defer { running.cancel() }
        let first = try await receiver.next("WATCHDOG") { $0.hasPrefix("WATCHDOG=1") }
        #expect(first == "WATCHDOG=1\nSTATUS=5 scheduled, 2 in flight")
        _ = try await receiver.next("a second WATCHDOG") { $0.hasPrefix("WATCHDOG=1") }
    }

    @Test("Without a watchdog it refreshes STATUS only")
    func statusOnly() async throws {
        let receiver = try DatagramReceiver()
        let notifier = try SystemdNotifier(address: NotifySocketAddress(receiver.address), logger: logger)
        let service = WatchdogService(
            notifier: notifier, watchdogInterval: nil, statusInterval: .milliseconds(50), logger: logger
        ) { "idle" }
        let running = Task { try await service.run() }
        defer { running.cancel() }
        #expect(try await receiver.next("STATUS") { _ in true } == "STATUS=idle")
    }

    @Test("A probe that never answers never feeds the watchdog, and does not hold up the shutdown")
    func wedgedProbe() async throws {
        let receiver = try DatagramReceiver()
        let log = LogCapture()
        let notifier = try SystemdNotifier(address: NotifySocketAddress(receiver.address), logger: logger)
        let probes = ProbeCounter()
        let service = WatchdogService(
            notifier: notifier, watchdogInterval: .milliseconds(20), stoppingStatus: "bye", logger: log.logger
        ) {
            probes.increment()
            // Wedged: never returns (the task is abandoned when the test ends).
            await withUnsafeContinuation { (_: UnsafeContinuation<Void, Never>) in }
            return "never"
        }
        let group = ServiceGroup(services: [service], logger: logger)
        let running = Task { try await group.run() }
        // The warning comes from the second tick, the first that finds the probe unanswered: from here on
        // every tick is one at which a broken service would ask again.
        try await waitUntil("the service to notice the unanswered probe", details: { "\(log.messages)" }) {
            log.contains("the engine has not answered")
        }
        // Ten more ticks (20 ms each) without a second question. The window is the assertion, not a wait.
        let onlyOne = try await holdsThroughout(.milliseconds(200), every: .milliseconds(10)) { probes.count == 1 }
        await group.triggerGracefulShutdown()
        try await running.value
        let datagrams = try receiver.drain()
        #expect(datagrams == ["STOPPING=1\nSTATUS=bye"])
        #expect(onlyOne && probes.count == 1, "a second question must not pile onto an unanswered one: \(probes.count) probes")
    }

    @Test("A graceful shutdown sends STOPPING=1 and ends the service")
    func stopping() async throws {
        let receiver = try DatagramReceiver()
        let notifier = try SystemdNotifier(address: NotifySocketAddress(receiver.address), logger: logger)
        let service = WatchdogService(
            notifier: notifier, watchdogInterval: .seconds(3600), stoppingStatus: "stopping: draining", logger: logger
        ) { "busy" }
        let group = ServiceGroup(services: [service], logger: logger)
        let running = Task { try await group.run() }
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(try await receiver.next("STOPPING") { $0.hasPrefix("STOPPING=1") } == "STOPPING=1\nSTATUS=stopping: draining")
    }
}
