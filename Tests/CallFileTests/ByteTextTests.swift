import ByteText
import Testing
import TestSupport
@testable import CallFile

/// Contract §5: a value that is not UTF-8 is kept as bytes, never repaired into U+FFFD.
@Suite struct ByteTextTests {
    @Test func wellFormedTextIsPlainDecoding() {
        for text in ["", "PJSIP/100", "Wakeup Svc <555>", "é 日本 😀", "\u{10FF7F}"] {
            #expect(ByteText.decode(Array(text.utf8)) == text)
            #expect(ByteText.bytes(text) == Array(text.utf8))
            #expect(!ByteText.hasEscapes(text))
        }
    }

    @Test func invalidBytesSurviveTheRoundTrip() {
        let cases: [[UInt8]] = [
            [0xFF], [0xC3], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF0, 0x80, 0x80, 0x80],
            Array("caf".utf8) + [0xE9], [0x80, 0xBF, 0xFE],
            // A well-formed scalar from the range the escapes use is held as its bytes too.
            Array("\u{10FF80}\u{10FFFF}".utf8),
        ]
        for bytes in cases {
            let text = ByteText.decode(bytes)
            #expect(ByteText.bytes(text) == bytes, "\(bytes)")
            #expect(ByteText.byteCount(text) == bytes.count, "\(bytes)")
            #expect(ByteText.hasEscapes(text), "\(bytes)")
            #expect(!text.unicodeScalars.contains("\u{FFFD}"), "\(bytes)")
        }
    }

    @Test func everyByteSequenceRoundTrips() {
        let seed = TestSeed.make()
        var random = SplitMix64(seed: seed)
        // Biased towards the bytes UTF-8 is made of, so that near-valid sequences are common.
        let alphabet: [UInt8] = [0x00, 0x0A, 0x0D, 0x41, 0x7F, 0x80, 0x8F, 0xBF, 0xC2, 0xC3, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF]
        for _ in 0..<5_000 {
            let bytes = (0..<Int.random(in: 0...12, using: &random)).map { _ in
                Bool.random(using: &random) ? alphabet.randomElement(using: &random)! : UInt8.random(in: 0...255, using: &random)
            }
            let text = ByteText.decode(bytes)
            #expect(ByteText.bytes(text) == bytes, "\(bytes), SPOOLD_TEST_SEED=\(seed)")
            // ASCII, CR, LF and NUL above all, is never hidden in an escape.
            #expect(text.utf8.filter { $0 < 0x80 } == bytes.filter { $0 < 0x80 }, "\(bytes), SPOOLD_TEST_SEED=\(seed)")
        }
    }

    @Test func theParserKeepsTheBytesOfEveryValue() throws {
        let latin1Cafe: [UInt8] = Array("caf".utf8) + [0xE9]
        let bytes = Array("Channel: PJSIP/".utf8) + [0xFF, 0x31] + [10]
            + Array("Application: Playback".utf8) + [10]
            + Array("Data: ".utf8) + latin1Cafe + [10]
            + Array("Set: GREETING=".utf8) + [0xC3, 0x28] + [10]
            + Array("CallerID: \"".utf8) + [0xE9] + Array("\" <100>".utf8) + [10]
        let result = CallFileParser.parse(bytes, path: "bytes.call")
        #expect(result.isRunnable)
        #expect(result.messages.contains("bytes that are not valid UTF-8"))
        #expect(ByteText.bytes(try #require(result.file.channel).description) == Array("PJSIP/".utf8) + [0xFF, 0x31])
        #expect(ByteText.bytes(result.file.data) == latin1Cafe)
        #expect(result.file.variables.map { ByteText.bytes($0.value) } == [[0xC3, 0x28]])
        #expect(ByteText.bytes(result.file.callerID?.name ?? "") == [0xE9])
    }

    @Test func theWriterWritesTheBytesBack() throws {
        let bytes = Array("Channel: PJSIP/".utf8) + [0xFF, 0x31] + [10]
            + Array("Application: Playback".utf8) + [10]
            + Array("Data: caf".utf8) + [0xE9, 0x3B, 0xC3] + [10]
        let file = CallFileParser.parse(bytes, path: "bytes.call").file
        let written = try CallFileWriter.bytes(for: file)
        #expect(written.contains(0xFF) && written.contains(0xE9))
        #expect(CallFileParser.parse(written, path: "again.call").file == file)
    }

    @Test func controlCharactersAreStillRefusedNextToBytesThatAreNotUTF8() {
        let bytes = Array("Channel: PJSIP/1".utf8) + [10] + Array("Application: Playback".utf8) + [10]
            + Array("Data: ".utf8) + [0xFF, 0x0D] + Array("Action: Command".utf8) + [10]
        let result = CallFileParser.parse(bytes, path: "cr.call")
        #expect(result.rejection?.reason == "control character")
    }
}
