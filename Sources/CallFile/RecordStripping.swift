extension CallFileParser {
    /// The file's bytes without spoold's and Asterisk's retry records (each record line and the blank line it
    /// follows): what a file reused as a fresh call keeps (AlwaysDelete: no, its mtime moved during the call).
    /// Nil when it holds no record.
    public static func strippingRecords(_ bytes: [UInt8], path: String) -> [UInt8]? {
        let lines = Set(parse(bytes, path: path).file.records.compactMap(\.line))
        guard !lines.isEmpty else { return nil }
        var pieces = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        let trailingNewline = bytes.last == UInt8(ascii: "\n")
        if trailingNewline { pieces.removeLast() }
        var drop = lines
        for line in lines where line >= 2 && pieces[line - 2].isEmpty { drop.insert(line - 1) }
        var result: [UInt8] = []
        for (index, piece) in pieces.enumerated() where !drop.contains(index + 1) {
            result += piece
            result.append(UInt8(ascii: "\n"))
        }
        if !trailingNewline, !result.isEmpty, !drop.contains(pieces.count) { result.removeLast() }
        return result
    }
}
