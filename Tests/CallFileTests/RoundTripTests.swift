import Testing
import TestSupport
@testable import CallFile

/// parse(write(x)) == x for every x the writer accepts, over seeded random values built to hit the
/// format's traps (comments, escapes, whitespace, colons, quotes, non-ASCII).
@Suite struct RoundTripTests {
    @Test(arguments: [1, 2, 3, 42, 2026])
    func randomFilesRoundTrip(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var accepted = 0
        for _ in 0..<400 {
            let file = random.callFile()
            let bytes: [UInt8]
            do {
                bytes = try CallFileWriter.bytes(for: file)
            } catch {
                continue
            }
            accepted += 1
            let result = CallFileParser.parse(bytes, path: "r.call")
            #expect(result.file == file, "\(String(decoding: bytes, as: UTF8.self))")
            #expect(result.isRunnable)
        }
        // The property means little unless most generated files are written.
        #expect(accepted > 150)
    }
}

/// Call-file-shaped values from the shared seeded generator, built to hit the format's traps.
extension SplitMix64 {
    static let pieces: [String] = [
        "a", "Z", "0", "9", "_", "-", ".", "@", "/", ":", "=", ",", "|", "(", ")", "[", "]", "<", ">", "\"",
        "\\", ";", "\\;", "#", "x#", " ", "\t", "é", "漢", "${X}", "!", "*", "+", "?",
    ]

    mutating func text(maxPieces: Int = 8) -> String {
        let count = Int.random(in: 0...maxPieces, using: &self)
        return (0..<count).map { _ in Self.pieces.randomElement(using: &self)! }.joined()
    }

    mutating func word() -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
        return String((0..<Int.random(in: 1...10, using: &self)).map { _ in letters.randomElement(using: &self)! })
    }

    mutating func callFile() -> CallFile {
        var file = CallFile()
        file.channel = Channel(tech: word(), resource: word() + text())
        if Bool.random(using: &self) { file.callerID = CallerID(parsing: text()) }
        if Bool.random(using: &self) {
            file.application = word()
            file.data = text(maxPieces: 12)
        }
        if file.application.isEmpty || Int.random(in: 0..<4, using: &self) == 0 {
            file.context = Bool.random(using: &self) ? word() : ""
            file.extension = word() + text(maxPieces: 3)
            file.priority = Int.random(in: 1...20, using: &self)
        }
        file.waitTime = Int.random(in: 1...120, using: &self)
        file.maxRetries = Int.random(in: -2...10, using: &self)
        file.retryTime = Int.random(in: 1...600, using: &self)
        if Bool.random(using: &self) { file.account = text() }
        for _ in 0..<Int.random(in: 0...4, using: &self) {
            file.variables.append(Variable(name: word(), value: text()))
        }
        for _ in 0..<Int.random(in: 0...2, using: &self) {
            file.codecLines.append(["ulaw", "!slin,alaw", "g722|opus", "all", text()].randomElement(using: &self)!)
        }
        file.earlyMedia = Bool.random(using: &self)
        file.alwaysDelete = Bool.random(using: &self)
        file.archive = Bool.random(using: &self)
        return file
    }
}
