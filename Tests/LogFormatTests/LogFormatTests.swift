import AMI
import Foundation
import Logging
import Synchronization
import Testing
@testable import LogFormats

@Suite("journald log lines")
struct JournaldFormatTests {
    @Test("sd-daemon priority prefix per level, no timestamp", arguments: [
        (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
    ])
    func priorities(level: Logger.Level, priority: Int) {
        #expect(LogLineFormatter.journald.line(level: level, message: "spoold ready", metadata: [:]) == "<\(priority)>spoold ready\n")
    }

    @Test("Metadata follows as sorted key=value pairs")
    func metadata() {
        let line = LogLineFormatter.journald.line(
            level: .notice, message: "AMI connected", metadata: ["b": "2", "a": .stringConvertible(1)])
        #expect(line == "<5>AMI connected a=1 b=2\n")
    }

    @Test("A line break in a message stays inside one journal entry")
    func lineBreaks() {
        let line = LogLineFormatter.journald.line(level: .error, message: "first\nsecond\r\nthird", metadata: ["k": "x\ny"])
        #expect(line == "<3>first\\nsecond\\r\\nthird k=x\\ny\n")
        #expect(line.filter { $0 == "\n" }.count == 1)
    }
}

@Suite("JSON log lines")
struct JSONFormatTests {
    let noon = timespec(tv_sec: 1_795_348_805, tv_nsec: 123_456_789)

    func decode(_ line: String) throws -> [String: Any] {
        #expect(line.hasSuffix("}\n"))
        #expect(line.dropLast().contains("\n") == false, "one object per line")
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        return try #require(object as? [String: Any])
    }

    @Test("time, level, message and metadata, in that order")
    func fields() throws {
        let line = LogLineFormatter.json.line(level: .notice, message: "spoold ready", metadata: ["pid": "42"], time: noon)
        #expect(line == #"{"time":"2026-11-22T12:00:05.123Z","level":"notice","message":"spoold ready","metadata":{"pid":"42"}}"# + "\n")
        let object = try decode(line)
        #expect(object["level"] as? String == "notice")
    }

    @Test("Quotes, backslashes, control characters and non-ASCII text survive a round trip")
    func escaping() throws {
        let message = "say \"hi\" \\ tab\there\nnew line \u{01}\u{1F}\u{7F} é 日本 😀 \u{2028}"
        let line = LogLineFormatter.json.line(level: .warning, message: message, metadata: ["file\"name": "a\\b\n"], time: noon)
        let object = try decode(line)
        #expect(object["message"] as? String == message)
        #expect((object["metadata"] as? [String: Any])?["file\"name"] as? String == "a\\b\n")
        #expect(line.contains(#"\u0001"#) && line.contains(#"\u001f"#) && line.contains(#"\u007f"#) && line.contains(#"\u2028"#))
    }

    @Test("Nested metadata becomes JSON arrays and objects")
    func nested() throws {
        let line = LogLineFormatter.json.line(
            level: .info, message: "m",
            metadata: ["list": ["a", .stringConvertible(2)], "map": ["inner": ["deep": "v"]]], time: noon)
        let metadata = try #require(try decode(line)["metadata"] as? [String: Any])
        #expect(metadata["list"] as? [String] == ["a", "2"])
        #expect(((metadata["map"] as? [String: Any])?["inner"] as? [String: String]) == ["deep": "v"])
    }
}

@Suite("Secrets in log lines")
struct SecretLoggingTests {
    @Test("An AMI secret given as metadata or interpolated is shown as stars in every format")
    func redacted() throws {
        let secret = AMISecret("hunter2-very-secret")
        for formatter in [LogLineFormatter.journald, .json] {
            let line = formatter.line(
                level: .info, message: "logging in with \(secret)", metadata: ["secret": .stringConvertible(secret)])
            #expect(!line.contains("hunter2"), "\(line)")
            #expect(line.contains("********"))
        }
    }

    @Test("The handler writes what the formatter makes, handler metadata merged with the event's")
    func handler() {
        let lines = Lines()
        var logger = Logger(label: "t") { _ in
            FormattedLogHandler(formatter: .journald, level: .info, output: { lines.append($0) })
        }
        logger[metadataKey: "server"] = "pbx1"
        logger.debug("hidden")
        logger.warning("dropped", metadata: ["file": "a.call"])
        #expect(lines.all == ["<4>dropped file=a.call server=pbx1\n"])
    }
}

@Suite("Choosing the format")
struct FormatChoiceTests {
    @Test("JOURNAL_STREAM counts only when it names the descriptor's own device and inode")
    func journalStream() throws {
        let path = NSTemporaryDirectory() + "/spoold-journal-\(UUID().uuidString)"
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        #expect(fd >= 0)
        defer { close(fd); unlink(path) }
        var info = stat()
        #expect(fstat(fd, &info) == 0)
        #expect(JournalStream.isConnected(fd: fd, journalStream: "\(info.st_dev):\(info.st_ino)"))
        #expect(!JournalStream.isConnected(fd: fd, journalStream: "\(info.st_dev):\(info.st_ino + 1)"))
        #expect(!JournalStream.isConnected(fd: fd, journalStream: nil))
        #expect(!JournalStream.isConnected(fd: fd, journalStream: "garbage"))
        #expect(!JournalStream.isConnected(fd: fd, journalStream: "\(info.st_dev):\(info.st_ino):1"))
    }

    @Test("Without JOURNAL_STREAM the default is plain")
    func plainByDefault() {
        #expect(LogFormat.automatic(environment: { _ in nil }) == .plain)
    }
}

final class Lines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}
