/// Bytes of one line, borrowed from the file (or from a rebuilt line) for the duration of a parse step.
typealias Bytes = UnsafeBufferPointer<UInt8>

/// Reference §2.1 steps 1–7 for one physical line: the length limit, `#` and `;` comments,
/// trailing control bytes, and the split into an untrimmed key and a value.
///
/// It works on borrowed buffers and index ranges, not on slices, because this is the parser's hot path.
struct ScannedLine {
    enum Content {
        /// Nothing left after comments and trailing bytes: Asterisk ignores the line.
        case blank
        /// 1023 bytes or more before the LF: Asterisk skips the whole line.
        case tooLong(length: Int)
        /// No `:` in what remained.
        case noColon
        /// Ranges into the scanned line, or into `rebuilt` when it is set.
        case pair(key: Range<Int>, value: Range<Int>)
    }

    var content: Content = .blank
    /// Set when `\;` escapes were removed: the line without them, which `content`'s ranges index into.
    var rebuilt: [UInt8]?
    /// A `#` after a space or tab cut away text, leaving something before it.
    var hashCutText = false
    /// A `;` right after a visible character cut the line: likely meant as a literal `;`.
    var semicolonCutText = false
    /// A NUL byte was in the line; Asterisk stops reading the line there.
    var hadNUL = false
    /// A CR byte survived inside the key or value (not just a trailing CR).
    var hadCR = false

    /// Asterisk reads lines into a 1024-byte buffer: 1022 bytes plus the LF fit.
    static let maximumLength = 1022

    /// `line` must start at index 0 (a rebased buffer).
    static func scan(_ line: Bytes) -> ScannedLine {
        var result = ScannedLine()
        if line.count > maximumLength {
            result.content = .tooLong(length: line.count)
            return result
        }
        var end = line.count
        if let nul = line.firstIndex(of: 0) {
            result.hadNUL = true
            end = nul
        }
        // `#` at column 0 or right after a space/tab starts a comment; elsewhere it is literal.
        var index = 0
        while index < end {
            if line[index] == hash, index == 0 || isBlank(line[index - 1]) {
                result.hashCutText = index != 0 && hasVisibleByte(line, before: index)
                end = index
                break
            }
            index += 1
        }
        // Every `;` cuts the line unless a backslash precedes it.
        var semicolon = 0
        while semicolon < end, line[semicolon] != semicolonByte { semicolon += 1 }
        if semicolon == end || semicolon == 0 || line[semicolon - 1] != backslash {
            if semicolon < end, semicolon > 0 { result.semicolonCutText = line[semicolon - 1] >= 33 }
            result.split(line, end: semicolon)
            return result
        }
        let rebuilt = unescape(line, end: end, result: &result)
        rebuilt.withUnsafeBufferPointer { result.split($0, end: $0.count) }
        result.rebuilt = rebuilt
        return result
    }

    /// The line without its `\;` escapes, up to the first unescaped `;`.
    private static func unescape(_ line: Bytes, end: Int, result: inout ScannedLine) -> [UInt8] {
        var rebuilt: [UInt8] = []
        rebuilt.reserveCapacity(end)
        var index = 0
        while index < end {
            let byte = line[index]
            if byte == semicolonByte {
                guard index > 0, line[index - 1] == backslash else {
                    result.semicolonCutText = index > 0 && line[index - 1] >= 33
                    break
                }
                rebuilt.removeLast()
            }
            rebuilt.append(byte)
            index += 1
        }
        return rebuilt
    }

    /// Trailing bytes below 33 go; then the split at the first `:`, skipping leading bytes below 33 of the value.
    private mutating func split(_ text: Bytes, end: Int) {
        var end = end
        while end > 0, text[end - 1] < 33 { end -= 1 }
        guard end > 0 else {
            content = .blank
            return
        }
        var colon = 0
        while colon < end, text[colon] != Self.colonByte { colon += 1 }
        guard colon < end else {
            content = .noColon
            return
        }
        var valueStart = colon + 1
        while valueStart < end, text[valueStart] < 33 { valueStart += 1 }
        var index = 0
        while index < end {
            if text[index] == Self.cr, index < colon || index >= valueStart {
                hadCR = true
                break
            }
            index += 1
        }
        content = .pair(key: 0..<colon, value: valueStart..<end)
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == space || byte == tab }

    private static func hasVisibleByte(_ line: Bytes, before end: Int) -> Bool {
        var index = 0
        while index < end {
            if line[index] >= 33 { return true }
            index += 1
        }
        return false
    }

    private static let hash = UInt8(ascii: "#")
    private static let semicolonByte = UInt8(ascii: ";")
    private static let colonByte = UInt8(ascii: ":")
    private static let backslash = UInt8(ascii: "\\")
    private static let space = UInt8(ascii: " ")
    private static let tab = UInt8(ascii: "\t")
    private static let cr = UInt8(ascii: "\r")
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// A sub-range as a buffer of its own that starts at index 0.
    subscript(bytes range: Range<Int>) -> Bytes {
        Bytes(rebasing: self[range])
    }
}
