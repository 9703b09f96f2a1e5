@testable import CallFile

func parse(_ text: String, path: String = "/spool/outgoing/t.call") -> ParsedCallFile {
    CallFileParser.parse(Array(text.utf8), path: path)
}

func parse(bytes: [UInt8], path: String = "/spool/outgoing/t.call") -> ParsedCallFile {
    CallFileParser.parse(bytes, path: path)
}

extension ParsedCallFile {
    var messages: [String] { diagnostics.map(\.message) }

    func diagnostics(on line: Int) -> [Diagnostic] { diagnostics.filter { $0.line == line } }
}

let minimalApp = "Channel: Local/s@answer\nApplication: Playback\nData: demo-congrats\n"
