import Testing
import TestSupport
@testable import CallFile

/// Odd and hostile bytes: every one parses, none crashes, and the result says what happened.
@Suite struct OddInputTests {
    @Test func crlfFileRunsLikeItsLFTwin() {
        let crlf = parse(minimalApp.split(separator: "\n").map { $0 + "\r\n" }.joined())
        #expect(crlf.file == parse(minimalApp).file)
        #expect(crlf.isRunnable)
        #expect(crlf.lastByte == UInt8(ascii: "\n"))
    }

    @Test func binaryNoiseParsesWithoutCrashing() {
        var random = SplitMix64(seed: 7)
        for size in [1, 2, 100, 1023, 1024, 4096, 70_000] {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &random) }
            let result = parse(bytes: bytes)
            #expect(result.lastByte == bytes.last)
            #expect(!result.isRunnable)
        }
    }

    @Test func oneMebibyteOfLinesParses() {
        let line = Array("Set: V=\(String(repeating: "v", count: 100))\n".utf8)
        var bytes = Array(minimalApp.utf8)
        while bytes.count < 1 << 20 { bytes += line }
        let result = parse(bytes: bytes)
        #expect(result.isRunnable)
        #expect(result.file.variables.count > 9_000)
        #expect(result.file.effectiveVariables.count == 1)
    }

    @Test func oneMebibyteLineIsSkipped() {
        let bytes = Array(minimalApp.utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20) + [10]
        let result = parse(bytes: bytes)
        #expect(result.isRunnable)
        #expect(result.messages.first == "Skipping extremely long line at line 4 of /spool/outgoing/t.call")
    }

    @Test func boundaryLinesWithoutFinalNewline() {
        for length in [1021, 1022, 1023, 1024] {
            let value = String(repeating: "y", count: length - "Account: ".count)
            let result = parse(minimalApp + "Account: " + value)
            #expect(result.file.account == (length <= 1022 ? value : ""), "length \(length)")
        }
    }

    @Test func nonUTF8InKeysAndValues() {
        let bytes: [UInt8] = Array("Chan".utf8) + [0xC3] + Array("nel: A/b".utf8) + [10]
            + Array("Channel: Local/".utf8) + [0xFF, 0x80] + [10]
            + Array("Application: E".utf8) + [0xE2, 0x82] + [10]
        let result = parse(bytes: bytes)
        #expect(result.diagnostics(on: 1).contains { $0.message.hasPrefix("Unknown keyword 'Chan") })
        #expect(result.file.channel?.tech == "Local")
        #expect(result.file.application.hasPrefix("E"))
        #expect(result.isRunnable)
    }

    @Test func onlyNewlinesAndOnlyNULs() {
        #expect(parse(bytes: [UInt8](repeating: 10, count: 5000)).diagnostics.count == 1)
        let longNULLine = parse(bytes: [UInt8](repeating: 0, count: 5000))
        #expect(longNULLine.rejection == nil, "skipped whole as too long, like Asterisk")
        let nulLines = parse(bytes: Array(repeating: [0, 0, 0, 10], count: 100).flatMap { $0 })
        #expect(nulLines.rejection?.reason == "control character")
    }

    /// Random byte edits of a real file: never a crash, and the result always hangs together.
    @Test func mutatedFilesKeepTheInvariants() {
        var random = SplitMix64(seed: 99)
        let original = Array(RecordTests.busyArchive.utf8)
        let alphabet: [UInt8] = Array("#;\\:/= \t\r\n\u{0}<>\"aZ9".utf8) + [0xFF, 0xC3]
        for _ in 0..<2000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                let position = Int.random(in: 0...bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes.insert(alphabet.randomElement(using: &random)!, at: position)
                case 1 where position < bytes.count: bytes.remove(at: position)
                default: if position < bytes.count { bytes[position] = alphabet.randomElement(using: &random)! }
                }
            }
            let result = parse(bytes: bytes)
            if result.isRunnable {
                #expect(result.file.channel.map { !$0.tech.isEmpty && !$0.resource.isEmpty } == true)
                #expect(!result.file.application.isEmpty || !result.file.extension.isEmpty)
            }
            #expect((result.invalidReason == nil) == !result.diagnostics.contains { $0.severity == .error && $0.line == nil })
            #expect(result.diagnostics.allSatisfy { $0.line.map { $0 >= 1 } ?? true })
            #expect(result.file.finishedAttempts <= result.file.records.count)
        }
    }
}
