/// The `Codecs` rules of reference §2.4: a format set that starts as `{slin}` and each line changes in turn.
public enum Codecs {
    /// The format names Asterisk 22 registers at start-up (core formats), in the order `all` adds them.
    public static let knownFormats: [String] = [
        "codec2", "g723", "ulaw", "alaw", "gsm", "g726", "g726aal2", "adpcm",
        "slin", "slin12", "slin16", "slin24", "slin32", "slin44", "slin48", "slin96", "slin192",
        "lpc10", "g729", "speex", "speex16", "speex32", "ilbc", "g722", "siren7", "siren14",
        "testlaw", "g719", "opus", "jpeg", "png", "h261", "h263", "h263p", "h264", "h265",
        "mpeg4", "vp8", "vp9", "red", "t140", "t38", "silk8", "silk12", "silk16", "silk24", "none",
    ]

    private static let knownSet = Set(knownFormats)

    /// The set a call file starts with.
    public static let initial = ["slin"]

    /// One problem found while applying a line, with Asterisk's log wording.
    public struct Problem: Sendable, Equatable {
        public var message: String
    }

    /// Applies one `Codecs` value to `formats`. Items are split at `,` or `|` and trimmed; `!` removes,
    /// `all` means every format, and an optional `:<ms>` framing suffix is kept on the entry.
    /// Unknown names are skipped with a problem; the other items still apply.
    public static func apply(_ value: String, to formats: inout [String]) -> [Problem] {
        var problems: [Problem] = []
        for rawItem in value.split(whereSeparator: { $0 == "," || $0 == "|" }) {
            var item = Substring(rawItem).trimmingASCIIWhitespace()
            guard !item.isEmpty else { continue }
            let adding = item.first != "!"
            if !adding { item = item.dropFirst() }
            let (nameWithCase, framing) = splitFraming(item)
            let name = nameWithCase.lowercased()
            if name == "all" {
                if adding {
                    for format in knownFormats where !formats.contains(where: { baseName($0) == format }) {
                        formats.append(format)
                    }
                } else {
                    formats.removeAll()
                }
                continue
            }
            guard knownSet.contains(name) else {
                let verb = adding ? "allow" : "disallow"
                problems.append(Problem(message: "Cannot \(verb) unknown format '\(nameWithCase)'"))
                continue
            }
            let entry = framing.map { "\(name):\($0)" } ?? name
            if let existing = formats.firstIndex(where: { baseName($0) == name }) {
                if adding { formats[existing] = entry } else { formats.remove(at: existing) }
            } else if adding {
                formats.append(entry)
            }
        }
        return problems
    }

    /// The list a whole file asks for: `slin` plus each line's changes.
    public static func final(for lines: [String]) -> [String] {
        var formats = initial
        for line in lines { _ = apply(line, to: &formats) }
        return formats
    }

    private static func splitFraming(_ item: Substring) -> (Substring, String?) {
        guard let colon = item.firstIndex(of: ":") else { return (item, nil) }
        let framing = item[item.index(after: colon)...].trimmingASCIIWhitespace()
        return (item[..<colon].trimmingASCIIWhitespace(), framing.isEmpty ? nil : String(framing))
    }

    private static func baseName(_ entry: String) -> Substring {
        entry.split(separator: ":", maxSplits: 1).first ?? Substring(entry)
    }
}

extension Substring {
    func trimmingASCIIWhitespace() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}
