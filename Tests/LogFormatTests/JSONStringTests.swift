import JSONString
import Testing

/// The one JSON string escaper behind the check report, the JSON log lines and the result log.
@Suite("JSON string literals")
struct JSONStringTests {
    @Test("Quote, backslash and the short escapes", arguments: [
        ("plain", #""plain""#),
        (#"say "hi""#, #""say \"hi\"""#),
        (#"C:\spool"#, #""C:\\spool""#),
        ("a\nb\rc\td", #""a\nb\rc\td""#),
    ])
    func shortEscapes(text: String, json: String) {
        #expect(JSONString.quoted(text) == json)
    }

    @Test("Other controls, DEL and the two JavaScript line separators become \\uXXXX; other text stays UTF-8")
    func unicodeEscapes() {
        #expect(JSONString.quoted("\u{1}\u{1F}\u{7F}") == #""\u0001\u001f\u007f""#)
        #expect(JSONString.quoted("a\u{2028}b\u{2029}") == #""a\u2028b\u2029""#)
        #expect(JSONString.quoted("Élodie ☎ 📞") == "\"Élodie ☎ 📞\"")
    }

    @Test("append adds to what is there, byte for byte the same as quoted")
    func appendMatchesQuoted() {
        var bytes = Array("{\"k\":".utf8)
        JSONString.append("v\u{0}\"", to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "{\"k\":" + JSONString.quoted("v\u{0}\""))
        #expect(JSONString.quoted("v\u{0}\"") == #""v\u0000\"""#)
    }
}
