import Testing
@testable import CallFile

/// Reference §2.1: how a line is read.
@Suite struct LineRuleTests {
    @Test func lineOf1022BytesIsKept() {
        let value = String(repeating: "x", count: 1022 - "Data: ".count)
        let result = parse(minimalApp + "Data: \(value)\n")
        #expect(result.file.data == value)
        #expect(!result.messages.contains { $0.hasPrefix("Skipping extremely long line") })
    }

    @Test func lineOf1023BytesIsSkippedWholeAndNextLineIsRead() {
        let value = String(repeating: "x", count: 1023 - "Data: ".count)
        let result = parse("Channel: Local/s@answer\nApplication: Playback\nData: keep\nData: \(value)\nAccount: next\n")
        #expect(result.file.data == "keep")
        #expect(result.file.account == "next")
        #expect(result.diagnostics(on: 4).map(\.message) == ["Skipping extremely long line at line 4 of /spool/outgoing/t.call"])
    }

    @Test func crCountsTowardsTheLimit() {
        let value = String(repeating: "x", count: 1022 - "Data: ".count)
        let result = parse(minimalApp + "Data: \(value)\r\n")
        #expect(result.file.data == "demo-congrats")
    }

    @Test func lastLineNeedsNoNewline() {
        let result = parse("Channel: Local/s@answer\nApplication: Playback")
        #expect(result.file.application == "Playback")
        #expect(result.isRunnable)
        #expect(result.messages.contains("no newline at end of file"))
    }

    @Test func hashAfterSpaceCutsAndElsewhereIsLiteral() {
        #expect(parse(minimalApp + "Data: 1,foo#bar baz #cut\n").file.data == "1,foo#bar baz")
        #expect(parse(minimalApp + "Data: a\t#b\n").file.data == "a")
        #expect(parse(minimalApp + "#Data: x\n").file.data == "demo-congrats")
    }

    @Test func hashRightAfterTheColonSpaceEmptiesTheValue() {
        let result = parse("Channel: Local/s@t\nExtension: #123\n")
        #expect(result.file.extension == "")
        #expect(result.diagnostics(on: 2).contains { $0.severity == .warning && $0.message.contains("'#'") })
        #expect(parse("Channel: Local/s@t\nExtension:#123\n").file.extension == "#123")
    }

    @Test func semicolonCutsUnlessEscaped() {
        #expect(parse(minimalApp + "Data: a\\;b;c\n").file.data == "a;b")
        #expect(parse(minimalApp + "Data: a;b\n").file.data == "a")
        #expect(parse(minimalApp + "Data: a\\b\n").file.data == "a\\b")
        #expect(parse(minimalApp + "Data: x\\;\\;y;z\n").file.data == "x;;y")
        #expect(parse(minimalApp + "; Data: x\n").file.data == "demo-congrats")
    }

    @Test func semicolonRightAfterTextIsWarnedButASpacedCommentIsNot() {
        let glued = parse(minimalApp + "Data: a;b\n")
        #expect(glued.diagnostics(on: 4).map(\.message) == ["';' starts a comment: the rest of the line was cut"])
        #expect(parse(minimalApp + "Data: x\\;y;z\n").diagnostics(on: 4).count == 1)
        #expect(parse(minimalApp + "Data: a ; comment\n").diagnostics.isEmpty)
        #expect(parse(minimalApp + ";comment\n").diagnostics.isEmpty)
    }

    @Test func hashRuleRunsBeforeSemicolonRule() {
        #expect(parse(minimalApp + "Data: a;#b\n").file.data == "a")
        #expect(parse(minimalApp + "Data: a\\; #b\n").file.data == "a;")
    }

    @Test func trailingControlBytesAreRemovedSoCRLFWorks() {
        let result = parse("Channel: Local/s@answer\r\nApplication: Playback\r\nData: x \t\u{01}\r\n")
        #expect(result.file.channel == Channel(tech: "Local", resource: "s@answer"))
        #expect(result.file.data == "x")
        #expect(result.rejection == nil)
    }

    @Test func leadingWhitespaceMakesAnUnknownKey() {
        let result = parse(minimalApp + " Account: x\n")
        #expect(result.file.account == "")
        let diagnostic = result.diagnostics(on: 4).first
        #expect(diagnostic?.message == "Unknown keyword ' Account' at line 4 of /spool/outgoing/t.call")
        #expect(diagnostic?.hint?.contains("whitespace") == true)
    }

    @Test func keyIsNotTrimmedBeforeTheColon() {
        let result = parse(minimalApp + "Account : x\n")
        #expect(result.file.account == "")
        #expect(result.messages.contains("Unknown keyword 'Account ' at line 4 of /spool/outgoing/t.call"))
    }

    @Test func lineWithoutColonIsASyntaxError() {
        let result = parse(minimalApp + "just words\n")
        #expect(result.isRunnable)
        #expect(result.diagnostics(on: 4).map(\.message) == ["Syntax error at line 4 of /spool/outgoing/t.call"])
    }

    @Test func valueSkipsLeadingControlBytesAndKeepsColons() {
        let result = parse("Channel:\t PJSIP/sip:100@host:5060\nApplication: Echo\n")
        #expect(result.file.channel == Channel(tech: "PJSIP", resource: "sip:100@host:5060"))
    }

    @Test func blankAndCommentLinesAreIgnoredButCounted() {
        let result = parse("\n# comment\n; other\n   \nChannel: Local/s@t\nApplication: Echo\nbogus\n")
        #expect(result.diagnostics.map(\.line) == [7])
        #expect(result.isRunnable)
    }

    @Test func nulByteEndsTheLineAndRejectsTheFile() {
        var bytes = Array(minimalApp.utf8)
        bytes += Array("Account: ab".utf8) + [0] + Array("cd\n".utf8)
        let result = parse(bytes: bytes)
        #expect(result.file.account == "ab")
        #expect(result.rejection?.reason == "control character")
        #expect(result.rejection?.line == 4)
        #expect(!result.isRunnable)
    }

    @Test func crInsideAValueRejectsTheFile() {
        let result = parse(minimalApp + "Account: a\rb\n")
        #expect(result.rejection?.reason == "control character")
        #expect(result.invalidReason == nil)
    }

    @Test func crInACommentIsHarmless() {
        let result = parse(minimalApp + "Account: a ;b\rc\n")
        #expect(result.rejection == nil)
        #expect(result.file.account == "a")
    }

    @Test func nonUTF8BytesAreReportedNotFatal() {
        let bytes = Array(minimalApp.utf8) + Array("Account: ".utf8) + [0xFF, 0xFE] + [0x0A]
        let result = parse(bytes: bytes)
        #expect(result.isRunnable)
        #expect(result.messages.contains("bytes that are not valid UTF-8"))
    }
}
