/// Reference §2.1 steps 1–7 for one physical line: the length limit, `#` and `;` comments,
/// trailing control bytes, and the split into an untrimmed key and a value.
struct ScannedLine {
    enum Content {
        /// Nothing left after comments and trailing bytes: Asterisk ignores the line.
        case blank
        /// 1023 bytes or more before the LF: Asterisk skips the whole line.
        case tooLong(length: Int)
        /// No `:` in what remained.
        case noColon
        case pair(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>)
    }

    var content: Content
    /// A `#` after a space or tab cut away text, leaving something before it.
    var hashCutText: Bool = false
    /// A `;` right after a visible character cut the line: likely meant as a literal `;`.
    var semicolonCutText: Bool = false
    /// A NUL byte was in the line; Asterisk stops reading the line there.
    var hadNUL: Bool = false
    /// A CR byte survived inside the key or value (not just a trailing CR).
    var hadCR: Bool = false

    /// Asterisk reads lines into a 1024-byte buffer: 1022 bytes plus the LF fit.
    static let maximumLength = 1022

    static func scan(_ line: ArraySlice<UInt8>) -> ScannedLine {
        if line.count > maximumLength {
            return ScannedLine(content: .tooLong(length: line.count))
        }
        var result = ScannedLine(content: .blank)
        var text = line
        if let nul = text.firstIndex(of: 0) {
            result.hadNUL = true
            text = text[..<nul]
        }
        // `#` at column 0 or right after a space/tab starts a comment; elsewhere it is literal.
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == hash, index == text.startIndex || isBlank(text[index - 1]) {
                result.hashCutText = index != text.startIndex && hasVisibleByte(text[..<index])
                text = text[..<index]
                break
            }
            index += 1
        }
        (text, result.semicolonCutText) = cutSemicolonComment(text)
        while let last = text.last, last < 33 { text = text.dropLast() }
        guard !text.isEmpty else { return result }
        guard let colon = text.firstIndex(of: UInt8(ascii: ":")) else {
            result.content = .noColon
            return result
        }
        let key = text[..<colon]
        var value = text[(colon + 1)...]
        while let first = value.first, first < 33 { value = value.dropFirst() }
        result.hadCR = key.contains(cr) || value.contains(cr)
        result.content = .pair(key: key, value: value)
        return result
    }

    /// Every `;` cuts the line unless a backslash precedes it; `\;` becomes `;`.
    /// Also says whether the cut followed a visible byte (`a;b`), the form that surprises people.
    private static func cutSemicolonComment(_ text: ArraySlice<UInt8>) -> (ArraySlice<UInt8>, Bool) {
        guard let first = text.firstIndex(of: semicolon) else { return (text, false) }
        if first == text.startIndex {
            return (text[..<first], false)
        }
        if text[first - 1] != backslash {
            return (text[..<first], text[first - 1] >= 33)
        }
        // An escape: rebuild the line without the escaping backslashes.
        var rebuilt: [UInt8] = []
        rebuilt.reserveCapacity(text.count)
        var index = text.startIndex
        var cutAfterVisible = false
        while index < text.endIndex {
            let byte = text[index]
            if byte == semicolon {
                guard index > text.startIndex, text[index - 1] == backslash else {
                    cutAfterVisible = index > text.startIndex && text[index - 1] >= 33
                    break
                }
                rebuilt.removeLast()
            }
            rebuilt.append(byte)
            index += 1
        }
        return (rebuilt[...], cutAfterVisible)
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == space || byte == tab }

    private static func hasVisibleByte(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.contains { $0 >= 33 }
    }

    private static let hash = UInt8(ascii: "#")
    private static let semicolon = UInt8(ascii: ";")
    private static let backslash = UInt8(ascii: "\\")
    private static let space = UInt8(ascii: " ")
    private static let tab = UInt8(ascii: "\t")
    private static let cr = UInt8(ascii: "\r")
}
