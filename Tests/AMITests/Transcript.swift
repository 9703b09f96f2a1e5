import Foundation

/// A real Asterisk 22 AMI session from the fixtures: each block is the bytes one side sent.
struct Transcript {
    enum Direction { case received, sent }
    struct Block {
        var direction: Direction
        var isBanner: Bool
        var bytes: [UInt8]
    }

    var name: String
    var blocks: [Block]

    /// The TCP transcripts (the HTTP rawman one is a different transport).
    static let tcpNames = [
        "ami_tcp_login_ping_logoff", "ami_originate_answer", "ami_originate_badchannel",
        "ami_originate_busy", "ami_originate_congest", "ami_originate_noanswer",
        "ami_originate_slowanswer", "ami_originate_sync_answer", "ami_originate_sync_busy",
    ]

    static func load(_ name: String) throws -> Transcript {
        guard let url = Bundle.module.url(forResource: name, withExtension: "txt", subdirectory: "Fixtures") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return Transcript(name: name, contents: Array(try Data(contentsOf: url)))
    }

    static func loadAll() throws -> [Transcript] { try tcpNames.map(load) }

    /// Annotation lines (`<<< RECV…`, `>>> SENT…`) end in a bare LF; payload lines in CRLF.
    init(name: String, contents: [UInt8]) {
        self.name = name
        self.blocks = []
        var index = 0
        while index < contents.count {
            let lineEnd = contents[index...].firstIndex(of: UInt8(ascii: "\n")) ?? contents.count - 1
            let line = contents[index...lineEnd]
            let text = String(decoding: line, as: UTF8.self)
            let isAnnotation = !text.hasSuffix("\r\n") && (text.hasPrefix("<<< ") || text.hasPrefix(">>> "))
            if isAnnotation {
                blocks.append(Block(
                    direction: text.hasPrefix("<<<") ? .received : .sent,
                    isBanner: text.contains("(banner)"),
                    bytes: []
                ))
            } else if !blocks.isEmpty {
                blocks[blocks.count - 1].bytes += line
            }
            index = lineEnd + 1
        }
    }

    var receivedBytes: [UInt8] { blocks.filter { $0.direction == .received }.flatMap(\.bytes) }
    var sentBytes: [UInt8] { blocks.filter { $0.direction == .sent }.flatMap(\.bytes) }

    /// The messages of one direction, split by a plain reading independent of the codec: each block
    /// holds one banner line or `Name: value` lines and a blank line.
    func expectedFrames(_ direction: Direction) -> [ExpectedFrame] {
        blocks.filter { $0.direction == direction }.map { block in
            let text = String(decoding: block.bytes, as: UTF8.self)
            if block.isBanner { return .banner(text.replacingOccurrences(of: "\r\n", with: "")) }
            let lines = text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            return .message(lines.map { line in
                let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                let value = parts.count > 1 ? String(parts[1].drop(while: { $0 == " " })) : ""
                return (String(parts[0]), value)
            })
        }
    }

    enum ExpectedFrame {
        case banner(String)
        case message([(String, String)])
    }
}
