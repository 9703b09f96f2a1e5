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
    func handler() throws {
        let file = try LogFile()
        var logger = Logger(label: "t") { _ in FormattedLogHandler(format: .journald, level: .info, writer: file.writer) }
        logger[metadataKey: "server"] = "pbx1"
        logger.debug("hidden")
        logger.warning("dropped", metadata: ["file": "a.call"])
        file.writer.flush()
        #expect(file.lines == ["<4>dropped file=a.call server=pbx1"])
    }
}

@Suite("One log writer for every format")
struct LogWriterTests {
    @Test("Each format's line is queued on the logging thread and written by the writer", arguments: LogFormat.allCases)
    func throughTheWriter(format: LogFormat) throws {
        let file = try LogFile()
        let logger = Logger(label: "t") { _ in FormattedLogHandler(format: format, level: .trace, writer: file.writer) }
        logger.notice("spoold ready", metadata: ["pid": "42"])
        // The handler's only way out is the writer's queue.
        #expect(file.writer.counts.queued == 1)
        file.writer.flush()
        #expect(file.writer.counts.written == 1)
        let line = try #require(file.lines.first)
        #expect(file.lines.count == 1)
        switch format {
        case .plain:
            #expect(line.hasSuffix("Z notice spoold ready pid=42"), "\(line)")
            #expect(line.count == "2026-11-22T12:00:05.123Z notice spoold ready pid=42".count, "\(line)")
        case .journald:
            #expect(line == "<5>spoold ready pid=42")
        case .json:
            #expect(line.hasPrefix(#"{"time":""#) && line.hasSuffix(#""level":"notice","message":"spoold ready","metadata":{"pid":"42"}}"#), "\(line)")
        }
    }

    @Test("The plain line: UTC time to the millisecond, level, message, sorted metadata")
    func plainLine() {
        var formatter = PlainLineFormatter()
        var bytes: [UInt8] = []
        let record = LogRecord(format: .plain, time: timespec(tv_sec: 1_795_348_805, tv_nsec: 7_456_789), level: .warning,
                               message: "AMI lost", metadata: ["b": "2", "a": "1"])
        formatter.append(record, to: &bytes)
        formatter.append(record, to: &bytes)
        let line = "2026-11-22T12:00:05.007Z warning AMI lost a=1 b=2\n"
        #expect(String(decoding: bytes, as: UTF8.self) == line + line)
    }

    @Test("The plain line without metadata, and a message that is not ASCII: every byte as logged")
    func plainLineBytes() {
        var formatter = PlainLineFormatter()
        var bytes: [UInt8] = []
        let message = "[café.call] attempt 1 of 1 on Sim/answer: answered ✓"
        formatter.append(LogRecord(format: .plain, time: timespec(tv_sec: 1_795_348_805, tv_nsec: 999_999_999), level: .notice,
                                   message: message, metadata: [:]), to: &bytes)
        #expect(bytes == Array("2026-11-22T12:00:05.999Z notice \(message)\n".utf8))
    }

    @Test("Many concurrent loggers in all three formats through a small queue: every line, whole, in each logger's order")
    func nothingLost() async throws {
        let file = try LogFile(capacity: 8)
        let loggers = 12
        let linesEach = 1_500
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<loggers {
                let format = LogFormat.allCases[index % LogFormat.allCases.count]
                group.addTask {
                    let logger = Logger(label: "t") { _ in FormattedLogHandler(format: format, level: .trace, writer: file.writer) }
                    for line in 0..<linesEach { logger.info("logger \(index) line \(line) end") }
                }
            }
        }
        file.writer.flush()
        let lines = file.lines
        #expect(lines.count == loggers * linesEach)
        var next = [Int](repeating: 0, count: loggers)
        var outOfOrder = 0
        for line in lines {
            // Whole lines only: each carries its own start and end.
            guard let range = line.range(of: "logger "), line.contains(" end") else {
                Issue.record("broken line: \(line)")
                continue
            }
            let words = line[range.upperBound...].split(separator: " ")
            guard let logger = Int(words[0]), let number = Int(words[2]) else {
                Issue.record("broken line: \(line)")
                continue
            }
            if number != next[logger] { outOfOrder += 1 }
            next[logger] = number + 1
        }
        #expect(outOfOrder == 0)
        #expect(next == [Int](repeating: linesEach, count: loggers))
    }

    @Test("flush() returns only once everything logged before it is written")
    func flushWaits() throws {
        let file = try LogFile()
        let logger = Logger(label: "t") { _ in FormattedLogHandler(format: .json, level: .trace, writer: file.writer) }
        for index in 0..<10_000 { logger.debug("line \(index)") }
        file.writer.flush()
        #expect(file.lines.count == 10_000)
        #expect(file.writer.counts.queued == 10_000 && file.writer.counts.written == 10_000)
    }
}

/// A log writer on a temporary file, and the file's lines.
final class LogFile: Sendable {
    let path: String
    let descriptor: Int32
    let writer: LogWriter

    init(capacity: Int = 65_536) throws {
        path = NSTemporaryDirectory() + "/spoold-log-\(UUID().uuidString)"
        descriptor = open(path, O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        writer = LogWriter(descriptor: descriptor, capacity: capacity)
    }

    // The writer's thread lives on (writers are never torn down), idle; the descriptor stays open for it.
    deinit { unlink(path) }

    var lines: [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
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
