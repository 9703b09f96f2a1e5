import ArgumentParser
import CallFile

/// Parse rate of a typical 12-line call file on one core (target: 200,000 files/s).
struct ParseBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse", abstract: "Parses a typical 12-line call file repeatedly and prints files per second.")

    @Option(help: "Seconds to measure for, after a short warm-up.")
    var seconds: Double = 3

    static let target = 200_000.0

    static let typicalFile = Array("""
        Channel: PJSIP/5551234@trunk
        CallerID: "Wakeup Service" <(555) 555-0100>
        WaitTime: 30
        MaxRetries: 2
        RetryTime: 60
        Account: hotel-7
        Context: wakeup
        Extension: s
        Priority: 1
        Set: ROOM=1207
        Set: LANGUAGE=en ; guest language
        Archive: yes

        """.utf8)

    func run() async throws {
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
        let bytes = Self.typicalFile
        var checksum = 0
        // Warm-up, so the figure is the steady state.
        for _ in 0..<20_000 { checksum &+= Self.parseOnce(bytes) }

        let clock = ContinuousClock()
        let start = clock.now
        let budget = Duration.milliseconds(Int64(seconds * 1000))
        var files = 0
        while clock.now - start < budget {
            for _ in 0..<10_000 { checksum &+= Self.parseOnce(bytes) }
            files += 10_000
        }
        let elapsed = clock.now - start
        let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = Double(files) / elapsedSeconds
        print("parse: \(files) files of \(bytes.count) bytes (12 lines) in \(format(elapsedSeconds, 2)) s on one core")
        print("parse: \(Int(rate)) files/s, \(format(rate * Double(bytes.count) / 1_048_576, 1)) MiB/s, \(format(1e9 / rate, 0)) ns/file (target ≥ \(Int(Self.target)) files/s: \(rate >= Self.target ? "met" : "NOT met"))")
        print("parse: checksum \(checksum)")
        printFigure("parse: typical 12-line call file", target: "≥ \(Int(Self.target)) files/s",
                    result: "\(Int(rate)) files/s", pass: rate >= Self.target)
    }

    /// A value from the result that the optimiser cannot drop.
    private static func parseOnce(_ bytes: [UInt8]) -> Int {
        let parsed = CallFileParser.parse(bytes, path: "/var/spool/asterisk/outgoing/bench.call")
        return parsed.file.variables.count &+ parsed.file.waitTime &+ parsed.diagnostics.count
    }

    private func format(_ value: Double, _ decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        return decimals == 0 ? String(Int(rounded)) : String(rounded)
    }
}
