import Logging
import TestSupport
import Testing
@testable import SystemdNotify

@Suite("NOTIFY_SOCKET addresses and datagrams")
struct NotifyEncodingTests {
    @Test("An absolute path is used as it is; '@name' is an abstract address starting with a NUL byte")
    func addresses() throws {
        #expect(try NotifySocketAddress("/run/systemd/notify").pathBytes == Array("/run/systemd/notify".utf8))
        #expect(try NotifySocketAddress("@spoold/notify").pathBytes == [0] + Array("spoold/notify".utf8))
    }

    @Test("Unusable values are refused with the reason", arguments: [
        ("", "empty"), ("relative/path", "neither an absolute path"), ("@", "abstract name after '@' is empty"),
        ("/" + String(repeating: "x", count: 107), "longer than 107 bytes"),
        ("@" + String(repeating: "x", count: 108), "longer than 107 bytes"),
    ])
    func refused(value: String, reason: String) {
        #expect {
            try NotifySocketAddress(value)
        } throws: { error in
            "\(error)".contains(reason) && "\(error)".contains("NOTIFY_SOCKET=")
        }
    }

    @Test("The longest path that fits, with its NUL, is accepted")
    func longestPath() throws {
        let path = "/" + String(repeating: "x", count: 106)
        #expect(try NotifySocketAddress(path).pathBytes.count == 107)
    }

    @Test("Fields are KEY=VALUE lines; STATUS is folded onto one line")
    func datagram() {
        let bytes = NotifyField.datagram([.ready, .status("3 scheduled,\n1 in flight\r\0")])
        #expect(String(decoding: bytes, as: UTF8.self) == "READY=1\nSTATUS=3 scheduled, 1 in flight  ")
        #expect(NotifyField.datagram([.stopping, .watchdog]) == Array("STOPPING=1\nWATCHDOG=1".utf8))
        #expect(NotifyField.datagram([.reloading(monotonicMicroseconds: 42)]) == Array("RELOADING=1\nMONOTONIC_USEC=42".utf8))
    }

    @Test("RELOADING carries the current CLOCK_MONOTONIC time in microseconds")
    func reloadingNow() throws {
        guard case .reloading(let first) = NotifyField.reloadingNow(),
              case .reloading(let second) = NotifyField.reloadingNow()
        else { Issue.record("not a reloading field"); return }
        #expect(first > 0 && second >= first)
    }
}

@Suite("SystemdNotifier against a real datagram socket")
struct NotifierSocketTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test("READY=1 with STATUS reaches a socket at a path", arguments: [false, true])
    func readyArrives(abstract: Bool) async throws {
        let receiver = try DatagramReceiver(abstract: abstract)
        let address = receiver.address
        let found = SystemdNotifier.fromEnvironment({ $0 == "NOTIFY_SOCKET" ? address : nil }, logger: logger)
        let notifier = try #require(found)
        notifier.ready(status: "ready: 2 scheduled, 0 in flight")
        let datagram = try await receiver.next("READY") { $0.hasPrefix("READY=1") }
        #expect(datagram == "READY=1\nSTATUS=ready: 2 scheduled, 0 in flight")
    }

    @Test("RELOADING=1 with MONOTONIC_USEC, then STOPPING=1, in the order sent")
    func reloadingAndStopping() async throws {
        let receiver = try DatagramReceiver()
        let notifier = try SystemdNotifier(address: NotifySocketAddress(receiver.address), logger: logger)
        notifier.reloading()
        notifier.stopping(status: "stopping")
        let stopping = try await receiver.next("STOPPING") { $0.hasPrefix("STOPPING=1") }
        #expect(stopping == "STOPPING=1\nSTATUS=stopping")
        let reloading = try #require(receiver.received.first)
        let lines = reloading.split(separator: "\n")
        #expect(lines.first == "RELOADING=1")
        #expect(lines.dropFirst().first?.hasPrefix("MONOTONIC_USEC=") == true)
        #expect(lines.dropFirst().first.flatMap { UInt64($0.dropFirst("MONOTONIC_USEC=".count)) } != nil)
    }

    @Test("No NOTIFY_SOCKET, or an unusable one: no notifier")
    func noNotifier() {
        #expect(SystemdNotifier.fromEnvironment({ _ in nil }, logger: logger) == nil)
        #expect(SystemdNotifier.fromEnvironment({ $0 == "NOTIFY_SOCKET" ? "relative" : nil }, logger: logger) == nil)
    }

    @Test("A socket nobody listens on: the send fails quietly, warned once, then at debug level")
    func deadSocket() throws {
        let log = LogCapture()
        let logger = log.logger
        let notifier = try SystemdNotifier(address: NotifySocketAddress("/nonexistent-dir/notify"), logger: logger)
        notifier.ready(status: "ready")
        notifier.watchdog(status: "1 scheduled, 0 in flight")
        let levels = log.records.map(\.level)
        #expect(levels == [.warning, .debug])
        #expect(log.records.first?.message.contains("cannot notify systemd") == true)
    }
}

@Suite("The watchdog interval from the environment")
struct WatchdogEnvironmentTests {
    func environment(_ values: [String: String]) -> SystemdNotifier.Environment {
        { values[$0] }
    }

    @Test("Half of WATCHDOG_USEC, as systemd advises")
    func half() {
        #expect(SystemdNotifier.watchdogPetInterval(environment(["WATCHDOG_USEC": "30000000"]), pid: 7) == .seconds(15))
        #expect(SystemdNotifier.watchdogPetInterval(environment(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "7"]), pid: 7) == .seconds(15))
    }

    @Test("No watchdog: unset, zero, not a number, or meant for another process")
    func none() {
        #expect(SystemdNotifier.watchdogPetInterval(environment([:]), pid: 7) == nil)
        #expect(SystemdNotifier.watchdogPetInterval(environment(["WATCHDOG_USEC": "0"]), pid: 7) == nil)
        #expect(SystemdNotifier.watchdogPetInterval(environment(["WATCHDOG_USEC": "30s"]), pid: 7) == nil)
        #expect(SystemdNotifier.watchdogPetInterval(environment(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "8"]), pid: 7) == nil)
    }
}
