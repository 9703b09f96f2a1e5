/// The syntax of an Asterisk-style `.conf` file, before any meaning is given to it: `[section]` headers
/// and `key = value` (or `key => value`) lines. Pure: bytes in, sections and syntax errors out.
///
/// Rules (docs/configuration.md): `;` starts a comment unless written `\;` (which stands for a literal
/// `;`); keys and values are trimmed of spaces and tabs; blank lines are ignored. What Asterisk's loader
/// does beyond this (`#include`, templates `[name](base)`, block comments `;-- --;`) is refused with a
/// clear error rather than half-supported.
public struct ConfigText: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// As written (trimmed); matching is case-insensitive.
        public var key: String
        public var value: String
        public var line: Int
    }

    public struct Section: Sendable, Equatable {
        /// The text between the brackets, trimmed.
        public var name: String
        public var line: Int
        public var entries: [Entry]
    }

    public var sections: [Section] = []
    public var errors: [ConfigError] = []

    public static func parse(_ bytes: [UInt8], file: String) -> ConfigText {
        var result = ConfigText()
        var lineNumber = 0
        for rawLine in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Array(rawLine)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            result.parseLine(line, number: lineNumber, file: file)
        }
        return result
    }

    private mutating func parseLine(_ bytes: [UInt8], number: Int, file: String) {
        func fail(_ key: String, _ message: String) {
            errors.append(ConfigError(file: file, line: number, key: key, message: message))
        }
        if let control = bytes.first(where: { ($0 < 0x20 && $0 != UInt8(ascii: "\t")) || $0 == 0x7F }) {
            return fail("line", "control character 0x\(String(control, radix: 16, uppercase: true)) is not allowed")
        }
        let text = Self.trim(Self.stripComment(bytes))
        if text.isEmpty {
            if Self.trim(bytes).starts(with: Array(";--".utf8)) {
                fail("line", "block comments (;-- … --;) are not supported; start every comment line with ;")
            }
            return
        }
        let line = String(decoding: text, as: UTF8.self)
        if line.hasPrefix("#") {
            let directive = String(line.prefix { $0 != " " && $0 != "\t" })
            return fail(directive, "directives (#include, #exec) are not supported; put every setting in this file")
        }
        if line.hasPrefix("[") {
            guard let close = line.firstIndex(of: "]") else {
                return fail(line, "a section header needs a closing ]")
            }
            let name = String(line[line.index(after: line.startIndex)..<close]).trimmingSpaces
            let rest = line[line.index(after: close)...]
            guard rest.trimmingSpaces.isEmpty else {
                return fail("[\(name)]", "text after ] (Asterisk templates such as [name](base)) is not supported")
            }
            guard !name.isEmpty else { return fail("[]", "a section needs a name") }
            sections.append(Section(name: name, line: number, entries: []))
            return
        }
        guard let equals = line.firstIndex(of: "=") else {
            return fail(line, "expected key = value")
        }
        let key = String(line[..<equals]).trimmingSpaces
        var valueStart = line.index(after: equals)
        if valueStart < line.endIndex, line[valueStart] == ">" { valueStart = line.index(after: valueStart) }
        let value = String(line[valueStart...]).trimmingSpaces
        guard !key.isEmpty else { return fail("=", "a line needs a key before the =") }
        guard !sections.isEmpty else {
            return fail(key, "setting outside any section; put it under [general] (or the section it belongs to)")
        }
        sections[sections.count - 1].entries.append(Entry(key: key, value: value, line: number))
    }

    /// Cuts the line at the first `;` not written as `\;`, and turns each `\;` into `;`.
    static func stripComment(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: ";") {
                result.append(UInt8(ascii: ";"))
                index += 2
                continue
            }
            if byte == UInt8(ascii: ";") { break }
            result.append(byte)
            index += 1
        }
        return result
    }

    static func trim(_ bytes: [UInt8]) -> [UInt8] {
        let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else {
            return []
        }
        return Array(bytes[first...last])
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(decoding: ConfigText.trim(Array(utf8)), as: UTF8.self)
    }
}
