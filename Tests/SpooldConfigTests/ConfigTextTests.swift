import Testing
@testable import SpooldConfig

@Suite("spoold.conf syntax")
struct ConfigTextTests {
    func parse(_ text: String) -> ConfigText { ConfigText.parse(Array(text.utf8), file: "t.conf") }

    @Test("Sections, key = value and key => value, trimmed; blank and comment lines skipped")
    func basics() {
        let text = parse("""
            ; a comment
            [general]
              max_cps   =   5   ; trailing comment
            \tbackend=>simulate

            [limit:PJSIP/*@a]
            max_concurrent =
            """)
        #expect(text.errors.isEmpty)
        #expect(text.sections.map(\.name) == ["general", "limit:PJSIP/*@a"])
        #expect(text.sections.map(\.line) == [2, 6])
        #expect(text.sections[0].entries == [
            .init(key: "max_cps", value: "5", line: 3),
            .init(key: "backend", value: "simulate", line: 4),
        ])
        #expect(text.sections[1].entries == [.init(key: "max_concurrent", value: "", line: 7)])
    }

    @Test("\\; is a literal semicolon; the first unescaped ; starts the comment")
    func escapedSemicolon() {
        let text = parse("[ami:a]\nsecret = ab\\;cd;e ; comment\\;\n")
        #expect(text.sections[0].entries.map(\.value) == ["ab;cd"])
    }

    @Test("CRLF line endings read like LF")
    func crlf() {
        let text = parse("[general]\r\npoll = yes\r\n")
        #expect(text.errors.isEmpty)
        #expect(text.sections[0].entries == [.init(key: "poll", value: "yes", line: 2)])
    }

    @Test("A value may hold = and spaces inside")
    func equalsInValue() {
        #expect(parse("[g]\nk = a = b c\n").sections[0].entries[0].value == "a = b c")
    }

    @Test("Syntax errors name the file, line and what is wrong", arguments: [
        ("poll = yes\n", "t.conf:1: poll: setting outside any section"),
        ("[general]\njust words\n", "t.conf:2: just words: expected key = value"),
        ("[general\n", "t.conf:1: [general: a section header needs a closing ]"),
        ("[a](!)\n", "t.conf:1: [a]: text after ] (Asterisk templates"),
        ("[ ]\n", "t.conf:1: []: a section needs a name"),
        ("[general]\n#include other.conf\n", "t.conf:2: #include: directives (#include, #exec) are not supported"),
        ("[general]\n;-- block\n", "t.conf:2: line: block comments (;-- … --;) are not supported"),
        ("[general]\n = 5\n", "t.conf:2: =: a line needs a key before the ="),
        ("[general]\npoll = y\u{0}es\n", "t.conf:2: line: control character 0x0 is not allowed"),
    ])
    func syntaxErrors(input: String, expected: String) {
        let text = parse(input)
        #expect(text.errors.count == 1)
        #expect(text.errors.first?.description.hasPrefix(expected) == true, "\(text.errors)")
    }

    @Test("Bytes that are not UTF-8 never crash the parser")
    func oddBytes() {
        let bytes: [UInt8] = Array("[general]\nbackend = ".utf8) + [0xFF, 0xFE, 0x80] + Array("\n[\u{FF}".utf8)
        let text = ConfigText.parse(bytes, file: "t.conf")
        #expect(text.sections.count == 1)
        #expect(text.errors.count == 1)
    }
}
