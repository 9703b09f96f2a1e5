import Foundation

/// A call file as spoold (or Asterisk) left it: the original bytes, the retry records appended after them,
/// and the final Status line. Parsed here independently of the CallFile library, so the end-to-end tests
/// check spoold's output against the documented format rather than against spoold's own parser.
struct ArchivedCallFile: Equatable {
    struct Record: Equatable, CustomStringConvertible {
        let tag: String
        let pid: Int
        let number: Int
        let epoch: Int
        var description: String { "\(tag): \(pid) \(number) (\(epoch))" }
    }

    let bytes: [UInt8]
    let text: String
    let records: [Record]
    let status: String?

    static let recordTags: Set<String> = ["StartRetry", "EndRetry", "AbortRetry", "DelayedRetry", "Retry"]

    init(bytes: [UInt8]) {
        self.bytes = bytes
        text = String(decoding: bytes, as: UTF8.self)
        var records: [Record] = []
        var status: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("Status: ") {
                status = String(line.dropFirst("Status: ".count))
            } else if let record = Self.record(in: line) {
                records.append(record)
            }
        }
        self.records = records
        self.status = status
    }

    /// `Tag: <pid> <n> (<epoch>)`, exactly; anything else is not a record.
    private static func record(in line: Substring) -> Record? {
        guard let colon = line.firstIndex(of: ":") else { return nil }
        let tag = String(line[..<colon])
        guard recordTags.contains(tag) else { return nil }
        let fields = line[line.index(after: colon)...].split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 4, fields[0].isEmpty,
              let pid = Int(fields[1]), let number = Int(fields[2]),
              fields[3].hasPrefix("("), fields[3].hasSuffix(")"),
              let epoch = Int(fields[3].dropFirst().dropLast())
        else { return nil }
        return Record(tag: tag, pid: pid, number: number, epoch: epoch)
    }

    var tags: [String] { records.map(\.tag) }
    func records(_ tag: String) -> [Record] { records.filter { $0.tag == tag } }

    /// The text appended after `original`, when the file starts with it byte for byte.
    func appended(after original: String) -> String? {
        let prefix = Array(original.utf8)
        guard bytes.starts(with: prefix) else { return nil }
        return String(decoding: bytes[prefix.count...], as: UTF8.self)
    }

    /// True when every record is written as `\n<Tag>: …\n` (a blank line before it) and the Status line
    /// stands alone at the very end.
    func recordsAreWellFormed(after original: String) -> Bool {
        guard var rest = appended(after: original) else { return false }
        for record in records {
            let expected = "\n\(record)\n"
            guard rest.hasPrefix(expected) else { return false }
            rest.removeFirst(expected.count)
        }
        guard let status else { return rest.isEmpty }
        return rest == "Status: \(status)\n"
    }
}
