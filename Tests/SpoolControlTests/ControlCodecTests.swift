import SpoolControl
import Spooler
import Testing

@Suite("Control socket codec")
struct ControlCodecTests {
    @Test("Requests go through the wire and back unchanged, whatever the name holds")
    func requestsRoundTrip() throws {
        let names = ["plain.call", "with space.call", "tab\there", "line\nbreak", "back\\slash", "cr\r.call", "ünï.call"]
        var requests: [ControlRequest] = [.queue]
        for name in names {
            requests += [.cancel(name), .reschedule(name, to: SpoolInstant(seconds: 1_795_364_000, nanoseconds: 5))]
        }
        for request in requests {
            let bytes = ControlCodec.encode(request)
            #expect(bytes.last == 0x0A)
            #expect(bytes.dropLast().allSatisfy { $0 != 0x0A && $0 != 0x0D }, "one line")
            #expect(try ControlCodec.decodeRequest(bytes.dropLast()) == request)
        }
    }

    @Test("Bad requests get a clear error, never a crash", arguments: [
        ("", "unknown request '' (queue, cancel or reschedule)"),
        ("status", "unknown request 'status' (queue, cancel or reschedule)"),
        ("queue\tmore", "queue takes no arguments"),
        ("cancel", "cancel takes one file name"),
        ("cancel\t", "cancel takes one file name"),
        ("cancel\ta\tb", "cancel takes one file name"),
        ("reschedule\ta.call", "reschedule takes a file name and a time"),
        ("reschedule\ta.call\tsoon", "'soon' is not a time in epoch nanoseconds"),
        ("cancel\ta\\x", "unknown escape '\\x'"),
        ("cancel\ta\\", "a line ends inside an escape"),
        ("cancel\ta\rb", "a control character inside a line"),
    ])
    func badRequests(line: String, message: String) {
        #expect(throws: ControlCodecError(message)) { try ControlCodec.decodeRequest(Array(line.utf8)) }
    }

    @Test("Non-UTF-8 bytes, NUL and an overlong line are refused")
    func hostileBytes() {
        #expect(throws: ControlCodecError("a field is not UTF-8")) { try ControlCodec.decodeRequest([0x63, 0x61, 0x6E, 0x63, 0x65, 0x6C, 0x09, 0xFF]) }
        #expect(throws: ControlCodecError("a control character inside a line")) { try ControlCodec.decodeRequest(Array("cancel\ta".utf8) + [0]) }
        #expect(throws: ControlCodecError("request longer than 4096 bytes")) {
            try ControlCodec.decodeRequest(Array("cancel\t".utf8) + [UInt8](repeating: 0x61, count: 4096))
        }
        // Every short byte string is answered with a request or an error.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...24, using: &generator)).map { _ in [0x09, 0x5C, 0x6E, 0x61, 0xC3, 0x00, 0x0A][Int.random(in: 0..<7, using: &generator)] as UInt8 }
            _ = try? ControlCodec.decodeRequest(bytes)
        }
    }

    static let entries = [
        QueueEntry(name: "a b\tc.call", state: .scheduled, due: SpoolInstant(seconds: 1_795_364_060, nanoseconds: 123),
                   summary: .init(channel: "PJSIP/100@trunk", attemptsMade: 1, attemptsAllowed: 3)),
        QueueEntry(name: "fresh.call", state: .due, due: SpoolInstant(seconds: 1_795_364_000), summary: nil),
        QueueEntry(name: "p.call", state: .parked, due: SpoolInstant(seconds: 1_795_364_001), summary: .init(channel: "Sim/x", attemptsMade: 0, attemptsAllowed: 1)),
        QueueEntry(name: "live.call", state: .inFlight(attempt: 2), due: SpoolInstant(seconds: 1_795_363_000),
                   summary: .init(channel: "Local/s@x", attemptsMade: 1, attemptsAllowed: 3)),
        QueueEntry(name: "c.call", state: .checking, due: nil, summary: .init(channel: "", attemptsMade: 0, attemptsAllowed: 1)),
        QueueEntry(name: "f.call", state: .finishing, due: nil, summary: nil),
        QueueEntry(name: "h.call", state: .held, due: SpoolInstant(seconds: 1_795_364_100), summary: .init(channel: "Sim/y", attemptsMade: 1, attemptsAllowed: 2)),
    ]

    @Test("Responses go through the wire and back unchanged, listings of any size included")
    func responsesRoundTrip() throws {
        let responses: [ControlResponse] = [
            .listing(Self.entries), .listing([]), .done("cancelled; archived with Status: Cancelled"),
            .done("3"), .unknown("spoold knows no call file named 'x'"), .refused("it is finishing\tnow"), .badRequest("empty request"),
        ]
        for response in responses {
            #expect(try ControlCodec.decodeResponse(ControlCodec.encode(response)) == response)
        }
    }

    @Test("A listing cut short is an error, never a shorter queue")
    func cutListing() {
        let bytes = ControlCodec.encode(.listing(Self.entries))
        let lines = bytes.split(separator: 0x0A)
        let withoutEnd = Array(lines.dropLast().joined(separator: [0x0A])) + [0x0A]
        #expect(throws: ControlCodecError("the answer has no final line")) { try ControlCodec.decodeResponse(withoutEnd) }
        #expect(throws: ControlCodecError("the answer was cut short")) { try ControlCodec.decodeResponse(Array(bytes.dropLast(3))) }
        let missingEntry = Array(lines.dropFirst().joined(separator: [0x0A])) + [0x0A]
        #expect(throws: ControlCodecError("the listing says \(Self.entries.count) files but holds \(Self.entries.count - 1)")) { try ControlCodec.decodeResponse(missingEntry) }
        #expect(throws: ControlCodecError("the answer was cut short")) { try ControlCodec.decodeResponse([]) }
    }

    @Test("The listing is sorted by due time (files without one last, then by name) and formatted")
    func listingText() {
        let sorted = QueueListing.sorted(Self.entries)
        #expect(sorted.map(\.name) == ["live.call", "fresh.call", "p.call", "a b\tc.call", "h.call", "c.call", "f.call"])
        let lines = QueueListing.text(sorted).split(separator: "\n").map(String.init)
        #expect(lines.count == 8)
        #expect(lines[0].hasPrefix("NAME"))
        #expect(lines[1].hasPrefix("live.call "))
        #expect(lines[1].contains("in flight, attempt 2 of 3"))
        #expect(lines[1].contains("2026-11-22 15:56:40"))
        #expect(lines[1].hasSuffix("1 of 3    Local/s@x"))
        #expect(lines[2].contains("due") && lines[2].hasSuffix("?         ?"))
        #expect(lines[3].contains("parked by a limit"))
        #expect(lines[5].contains("held by a window") && lines[5].hasSuffix("1 of 2    Sim/y"))
        #expect(lines[6].contains("checking after restart") && lines[6].contains(" - "))
    }

    @Test("The JSON listing: one object per line, escaped names, nulls where nothing is known")
    func listingJSON() {
        let json = QueueListing.json(QueueListing.sorted(Self.entries))
        let lines = json.split(separator: "\n").map(String.init)
        #expect(lines.first == "[" && lines.last == "]")
        #expect(lines[1] == #"{"name":"live.call","state":"in_flight","attempt":2,"due":1795363000.000,"due_utc":"2026-11-22T15:56:40Z","attempts_made":1,"attempts_allowed":3,"channel":"Local/s@x"},"#)
        #expect(lines[2] == #"{"name":"fresh.call","state":"due","due":1795364000.000,"due_utc":"2026-11-22T16:13:20Z","attempts_made":null,"attempts_allowed":null,"channel":null},"#)
        #expect(lines[4].hasPrefix(#"{"name":"a b\tc.call","state":"scheduled","due":1795364060.000,"#))
        #expect(lines[5] == #"{"name":"h.call","state":"held","due":1795364100.000,"due_utc":"2026-11-22T16:15:00Z","attempts_made":1,"attempts_allowed":2,"channel":"Sim/y"},"#)
        #expect(lines[7].hasSuffix("}"))
    }

    @Test("UTC dates across years, leap days and before 1970")
    func utcDates() {
        #expect(QueueListing.utc(SpoolInstant(seconds: 0)) == "1970-01-01 00:00:00")
        #expect(QueueListing.utc(SpoolInstant(seconds: 951_782_400)) == "2000-02-29 00:00:00")
        #expect(QueueListing.utc(SpoolInstant(seconds: 1_798_761_599)) == "2026-12-31 23:59:59")
        #expect(QueueListing.utc(SpoolInstant(seconds: -1)) == "1969-12-31 23:59:59")
    }

    @Test("The socket's mode follows outgoing/'s: who may write the spool may control it")
    func socketMode() {
        #expect(ControlSocketService.socketMode(directoryMode: 0o40755) == 0o600)
        #expect(ControlSocketService.socketMode(directoryMode: 0o40775) == 0o660)
        #expect(ControlSocketService.socketMode(directoryMode: 0o41777) == 0o666)
        #expect(ControlSocketService.socketMode(directoryMode: 0o40700) == 0o600)
    }
}
