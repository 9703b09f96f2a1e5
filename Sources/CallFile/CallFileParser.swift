import ByteText
/// Reads call-file bytes exactly as Asterisk's spool does (reference §2.1–2.5) and reports every
/// silent surprise on the way. Never fails: any bytes give a model and diagnostics.
public enum CallFileParser {
    public static func parse(_ bytes: [UInt8], path: String) -> ParsedCallFile {
        var parser = Parser(path: path)
        bytes.withUnsafeBufferPointer { buffer in
            var start = 0
            var lineNumber = 0
            while start < buffer.count {
                lineNumber += 1
                var end = start
                while end < buffer.count, buffer[end] != newline { end += 1 }
                parser.consume(buffer[bytes: start..<end], line: lineNumber)
                start = end + 1
            }
            if let last = bytes.last, last != newline {
                parser.note(
                    line: lineNumber, .warning, "no newline at end of file",
                    hint: "Asterisk appends its Status line straight after the last byte; end the file with a newline")
            }
        }
        return parser.finish(lastByte: bytes.last)
    }

    static let newline = UInt8(ascii: "\n")
}

/// The keys of reference §2.2, matched case-insensitively.
enum Keyword: CaseIterable {
    case channel, callerID, application, data, context, `extension`, priority
    case maxRetries, retryTime, waitTime, account, set, setVar, codecs
    case alwaysDelete, archive, earlyMedia
    case retry, startRetry, endRetry, abortRetry, delayedRetry

    var spelling: String {
        switch self {
        case .channel: "channel"
        case .callerID: "callerid"
        case .application: "application"
        case .data: "data"
        case .context: "context"
        case .extension: "extension"
        case .priority: "priority"
        case .maxRetries: "maxretries"
        case .retryTime: "retrytime"
        case .waitTime: "waittime"
        case .account: "account"
        case .set: "set"
        case .setVar: "setvar"
        case .codecs: "codecs"
        case .alwaysDelete: "alwaysdelete"
        case .archive: "archive"
        case .earlyMedia: "early_media"
        case .retry: "retry"
        case .startRetry: "startretry"
        case .endRetry: "endretry"
        case .abortRetry: "abortretry"
        case .delayedRetry: "delayedretry"
        }
    }

    private static let table: [(bytes: [UInt8], keyword: Keyword)] = allCases.map { (Array($0.spelling.utf8), $0) }

    static func match(_ key: Bytes) -> Keyword? {
        candidates: for entry in table where entry.bytes.count == key.count {
            var index = key.startIndex
            for expected in entry.bytes {
                var byte = key[index]
                if byte >= UInt8(ascii: "A"), byte <= UInt8(ascii: "Z") { byte += 32 }
                guard byte == expected else { continue candidates }
                index += 1
            }
            return entry.keyword
        }
        return nil
    }
}

private struct Parser {
    let path: String
    var file = CallFile()
    var diagnostics: [Diagnostic] = []
    var rejection: Rejection?
    /// The running format set, kept only to report unknown names line by line.
    var formats = Codecs.initial
    /// The line each Originate header comes from (see `OriginateLimits.headers`), in file order: the last
    /// that set a header wins. Kept as a list and made a dictionary only for a file that may exceed AMI's
    /// limits (rarely): hashing three or more keys per file was a fifth of parsing the usual one.
    var originateLines: [(key: String, line: Int)] = []
    var originateLinesByKey: [String: Int] { Dictionary(originateLines, uniquingKeysWith: { _, last in last }) }

    init(path: String) {
        self.path = path
        // Room for a usual file's headers at once: growing 1, 2, 4 cost two extra allocations per parse.
        originateLines.reserveCapacity(8)
    }

    mutating func note(line: Int?, _ severity: Diagnostic.Severity, _ message: String, hint: String? = nil) {
        diagnostics.append(Diagnostic(line: line, severity: severity, message: message, hint: hint))
    }

    private func at(_ line: Int) -> String { Self.at(line, in: path) }

    private static func at(_ line: Int, in path: String) -> String { "at line \(line) of \(path)" }

    mutating func consume(_ bytes: Bytes, line: Int) {
        let scanned = ScannedLine.scan(bytes)
        if scanned.hadNUL {
            reject(line: line, detail: "a NUL byte in line \(line); Asterisk would silently cut the line there")
        }
        if scanned.hashCutText {
            note(
                line: line, .warning, "'#' after a space or tab starts a comment: the rest of the line was cut",
                hint: "Asterisk has no escape for '#'; write it directly after another character")
        }
        if scanned.semicolonCutText {
            note(
                line: line, .warning, "';' starts a comment: the rest of the line was cut",
                hint: "write \\; for a literal ';'")
        }
        switch scanned.content {
        case .blank:
            return
        case .tooLong(let length):
            note(
                line: line, .warning, "Skipping extremely long line \(at(line))",
                hint: "\(length) bytes; Asterisk keeps lines of at most \(ScannedLine.maximumLength) bytes")
        case .noColon:
            note(line: line, .warning, "Syntax error \(at(line))", hint: "a line needs 'Key: value'")
        case .pair(let key, let value):
            if scanned.hadCR {
                reject(line: line, detail: "a CR byte inside the value in line \(line)")
            }
            if let rebuilt = scanned.rebuilt {
                rebuilt.withUnsafeBufferPointer { pair(key: $0[bytes: key], value: $0[bytes: value], line: line) }
            } else {
                pair(key: bytes[bytes: key], value: bytes[bytes: value], line: line)
            }
        }
    }

    private mutating func pair(key: Bytes, value: Bytes, line: Int) {
        guard let keyword = Keyword.match(key) else {
            if let status = finishMark(key: key, value: value) {
                file.finishedStatus = status
                return
            }
            unknown(key: text(key, line: line), line: line)
            return
        }
        apply(keyword, keyAsTyped: key, value: value, line: line)
    }

    private mutating func reject(line: Int, detail: String) {
        note(line: line, .error, "control character in value", hint: detail)
        if rejection == nil {
            rejection = Rejection(reason: "control character", line: line, detail: detail,
                                  consequence: "a CR or NUL in a value could smuggle headers onto the AMI wire")
        }
    }

    /// Values become Strings without losing a byte: bytes that are not UTF-8 are held as `ByteText`
    /// escapes and reach the AMI wire as they were in the file. Worth a warning all the same.
    private mutating func text(_ bytes: Bytes, line: Int) -> String {
        let string = ByteText.decode(bytes)
        // Only bytes over 0x7F can give an escape: ASCII values (nearly all) skip the look at the String.
        if bytes.contains(where: { $0 >= 0x80 }), ByteText.hasEscapes(string) {
            note(
                line: line, .warning, "bytes that are not valid UTF-8",
                hint: "passed on to Asterisk as they are, as Asterisk itself does")
        }
        return string
    }

    private mutating func apply(_ keyword: Keyword, keyAsTyped: Bytes, value bytes: Bytes, line: Int) {
        let path = self.path  // captured by the lazily built messages below, which must not capture self
        switch keyword {
        case .channel:
            let value = text(bytes, line: line)
            if let channel = Channel(parsing: value) {
                file.channel = channel
                originateLines.append(("Channel", line))
            } else {
                note(
                    line: line, .warning, "Channel should be in form Tech/Dest \(at(line))",
                    hint: file.channel.map { "the earlier Channel \($0) is kept" } ?? "the file has no valid Channel yet")
            }
        case .callerID:
            file.callerID = CallerID(parsing: text(bytes, line: line))
            originateLines.append(("CallerID", line))
        case .application:
            file.application = text(bytes, line: line)
            originateLines.append(("Application", line))
        case .data:
            file.data = text(bytes, line: line)
            originateLines.append(("Data", line))
        case .context:
            file.context = text(bytes, line: line)
            originateLines.append(("Context", line))
        case .extension:
            file.extension = text(bytes, line: line)
            originateLines.append(("Extension", line))
        case .priority:
            file.priority = number(
                bytes, line: line, minimum: 1, fallback: CallFile.defaultPriority,
                message: "Invalid priority \(Self.at(line, in: path))",
                hint: bytes.first.map(Self.isLetter) == true ? "priority labels are not supported; use a number" : nil)
        case .maxRetries:
            file.maxRetries = number(
                bytes, line: line, minimum: nil, fallback: CallFile.defaultMaxRetries,
                message: "Invalid max retries \(Self.at(line, in: path))", hint: nil)
        case .retryTime:
            file.retryTime = number(
                bytes, line: line, minimum: 1, fallback: CallFile.defaultRetryTime,
                message: "Invalid retrytime \(Self.at(line, in: path))", hint: nil)
        case .waitTime:
            file.waitTime = number(
                bytes, line: line, minimum: 1, fallback: CallFile.defaultWaitTime,
                message: "Invalid waittime \(Self.at(line, in: path))", hint: nil)
        case .account:
            file.account = text(bytes, line: line)
            originateLines.append(("Account", line))
        case .set, .setVar:
            guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")) else {
                let key = text(keyAsTyped, line: line)
                note(line: line, .warning, "Malformed \"\(key)\" argument.  Should be \"\(key): variable=value\"")
                return
            }
            let variable = Variable(
                name: text(bytes[bytes: 0..<equals], line: line), value: text(bytes[bytes: (equals + 1)..<bytes.count], line: line))
            if variable.name.isEmpty {
                note(line: line, .warning, "variable with an empty name", hint: "write 'Set: NAME=value'")
            } else if variable.name.utf8.last.map({ $0 < 33 }) == true {
                note(
                    line: line, .warning, "variable name '\(variable.name)' ends with whitespace",
                    hint: "Asterisk keeps the spaces before '=' as part of the name")
            }
            file.variables.append(variable)
            originateLines.append(("Variable " + variable.name, line))
        case .codecs:
            let value = text(bytes, line: line)
            for problem in Codecs.apply(value, to: &formats) {
                note(line: line, .warning, problem.message)
            }
            file.codecLines.append(value)
            originateLines.append(("Codecs", line))
        case .alwaysDelete:
            file.alwaysDelete = isTrue(bytes)
        case .archive:
            file.archive = isTrue(bytes)
        case .earlyMedia:
            file.earlyMedia = isTrue(bytes)
        case .retry:
            appendRecord(record(.retry, bytes, line: line))
        case .startRetry:
            appendRecord(record(.start, bytes, line: line))
        case .endRetry:
            appendRecord(record(.end, bytes, line: line))
        case .abortRetry:
            appendRecord(record(.abort, bytes, line: line))
        case .delayedRetry:
            appendRecord(record(.delayed, bytes, line: line))
        }
    }

    /// `message` and `hint` are built only when needed: most numbers are fine, and this is the hot path.
    private mutating func number(
        _ bytes: Bytes, line: Int, minimum: Int?, fallback: Int, message: @autoclosure () -> String,
        hint: @autoclosure () -> String?
    ) -> Int {
        guard let scanned = ScannedInteger.scan(bytes), minimum.map({ scanned.value >= $0 }) ?? true else {
            note(line: line, .warning, message(), hint: hint() ?? "the default \(fallback) is used")
            return fallback
        }
        if scanned.outOfRange {
            note(
                line: line, .warning, "number out of range",
                hint: "Asterisk reads '\(text(bytes, line: line))' as \(scanned.value)")
        } else if scanned.hasTrailingText {
            note(
                line: line, .warning, "text after the number is ignored",
                hint: "Asterisk reads '\(text(bytes, line: line))' as \(scanned.value)")
        }
        return scanned.value
    }

    /// `<pid> <n> (<epoch>)`; only the pid matters to Asterisk, the rest is read where present.
    /// A record after a Status line means the file went on after that finish (it is not finished now).
    private mutating func appendRecord(_ record: RetryRecord) {
        file.records.append(record)
        file.finishedStatus = nil
    }

    /// `Status: <Completed|Expired|Failed>` after a retry record: the mark of a call that was finished just
    /// before its file was to leave `outgoing/` (spoold and Asterisk both append it there first).
    private func finishMark(key: Bytes, value: Bytes) -> CallStatus? {
        guard !file.records.isEmpty, key.count == 6,
              String(decoding: key, as: UTF8.self).lowercased() == "status" else { return nil }
        return CallStatus(rawValue: String(decoding: value, as: UTF8.self))
    }

    private mutating func record(_ kind: RetryRecord.Kind, _ bytes: Bytes, line: Int) -> RetryRecord {
        let fields = RecordFields(bytes)
        if kind == .start, fields.pid == nil {
            note(line: line, .warning, "Unable to retrieve calling PID!", hint: "the pid is taken as 0")
        }
        return RetryRecord(
            kind: kind, pid: fields.pid ?? 0, number: fields.number ?? 0, epoch: fields.epoch ?? 0, line: line)
    }

    private mutating func unknown(key: String, line: Int) {
        note(line: line, .warning, "Unknown keyword '\(key)' \(at(line))", hint: Self.hint(forUnknownKey: key))
    }

    private static func hint(forUnknownKey key: String) -> String {
        let trimmed = Substring(key).trimmingASCIIWhitespace()
        if trimmed.count != key.count, Array(trimmed.utf8).withUnsafeBufferPointer({ Keyword.match($0) }) != nil {
            return "the key has whitespace around it; Asterisk does not trim keys, so the line is ignored"
        }
        switch key.lowercased() {
        case "earlymedia": return "the key is Early_Media, with an underscore"
        case "status": return "Status is appended when a file is archived; it is not a key"
        case "timeout": return "use WaitTime (seconds)"
        case "variable": return "use Set: NAME=value"
        case "calleridname", "calleridnum", "calleridnumber":
            return "use CallerID: \"Name\" <number>"
        case "maxcalltime": return "call files have no call-length limit; set one in the dialplan"
        case "async", "channelid", "exten", "timeout_ms": return "this is an AMI Originate header, not a call-file key"
        default: return "the line is ignored"
        }
    }

    mutating func finish(lastByte: UInt8?) -> ParsedCallFile {
        let invalidReason = validity()
        if !file.application.isEmpty {
            if !file.extension.isEmpty || !file.context.isEmpty {
                note(
                    line: nil, .note, "application mode: Context, Extension and Priority are ignored",
                    hint: "a non-empty Application wins over an Extension")
            }
            if file.earlyMedia {
                note(line: nil, .note, "Early_Media is ignored in application mode")
            }
        }
        checkOriginateLimits(invalid: invalidReason != nil)
        return ParsedCallFile(
            file: file, diagnostics: diagnostics, invalidReason: invalidReason, rejection: rejection,
            lastByte: lastByte)
    }

    /// AMI's own limits (contract, "Limits of AMI itself"): each header over AMI's line limit is a
    /// warning, and a file that would be dialled is refused, so that it fails with the cause named
    /// instead of at its first attempt. A file that is invalid, finished or out of attempts is never
    /// dialled, so only warned about.
    private mutating func checkOriginateLimits(invalid: Bool) {
        guard mayExceedOriginateLimits else { return }
        let lines = originateLinesByKey
        for header in OriginateLimits.headers(of: file, lines: lines)
        where header.length > OriginateLimits.maximumLineLength {
            let what = header.name == "Variable" ? "Variable header for \(header.value.prefix { $0 != "=" })" : "\(header.name) header"
            note(
                line: header.line, .warning,
                "the AMI \(what) would be \(header.length) bytes, over AMI's \(OriginateLimits.maximumLineLength)-byte line limit",
                hint: "Asterisk's spool reads this line, but Asterisk refuses such an Originate; spoold fails the file without dialling")
        }
        let lineCount = OriginateLimits.lineCount(of: file)
        if lineCount > OriginateLimits.maximumLineCount {
            note(
                line: nil, .warning,
                "the AMI Originate would be \(lineCount) lines, over AMI's \(OriginateLimits.maximumLineCount)-line limit",
                hint: "one Variable line per Set name; Asterisk refuses more lines; spoold fails the file without dialling")
        }
        guard rejection == nil, !invalid, file.finishedStatus == nil, file.finishedAttempts < file.attemptsAllowed else { return }
        rejection = OriginateLimits.problem(of: file, lines: lines)
    }

    /// A cheap bound, so the usual file (short values, a few Sets, no Codecs) skips building the headers.
    private var mayExceedOriginateLimits: Bool {
        if !file.codecLines.isEmpty || file.variables.count + 16 > OriginateLimits.maximumLineCount { return true }
        // The longest header name, "Application", with ": " and CRLF.
        let room = OriginateLimits.maximumLineLength - 15
        if let channel = file.channel, channel.tech.utf8.count + 1 + channel.resource.utf8.count > room { return true }
        if let callerID = file.callerID, callerID.name.utf8.count + callerID.number.utf8.count + 5 > room { return true }
        if file.application.utf8.count > room || file.data.utf8.count > room || file.context.utf8.count > room
            || file.extension.utf8.count > room || file.account.utf8.count > room {
            return true
        }
        return file.variables.contains { $0.name.utf8.count + 1 + $0.value.utf8.count > room }
    }

    /// Reference §2.5: tech, resource, and an application or an extension are needed.
    private mutating func validity() -> String? {
        var missing: [String] = []
        if file.channel == nil {
            missing.append("no valid Channel")
        } else {
            if file.channel?.tech.isEmpty == true { missing.append("the Channel has no tech") }
            if file.channel?.resource.isEmpty == true { missing.append("the Channel has no destination") }
        }
        if file.application.isEmpty, file.extension.isEmpty { missing.append("neither Application nor Extension") }
        guard !missing.isEmpty else { return nil }
        let message = "At least one of app or extension must be specified, along with tech and dest in file \(path)"
        note(line: nil, .error, message, hint: missing.joined(separator: "; "))
        return message
    }

    private func isTrue(_ bytes: Bytes) -> Bool { BooleanWord.isTrue(bytes) }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
    }
}

/// Reference §2.3: `yes`, `true`, `y`, `t`, `1`, `on` (any case) are true; everything else is false.
enum BooleanWord {
    private static let trueWords: [[UInt8]] = ["yes", "true", "y", "t", "1", "on"].map { Array($0.utf8) }

    static func isTrue(_ bytes: Bytes) -> Bool {
        words: for word in trueWords where word.count == bytes.count {
            for (expected, byte) in zip(word, bytes) {
                let lowered = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
                guard lowered == expected else { continue words }
            }
            return true
        }
        return false
    }
}

/// The fields of a record line, each read where it is present.
private struct RecordFields {
    var pid: Int?
    var number: Int?
    var epoch: Int64?

    init(_ bytes: Bytes) {
        var index = 0
        pid = Self.integer(bytes, &index).map { Int($0) }
        number = Self.integer(bytes, &index).map { Int($0) }
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") { index += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: "(") {
            index += 1
            epoch = Self.integer(bytes, &index)
        }
    }

    private static func integer(_ bytes: Bytes, _ index: inout Int) -> Int64? {
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        var value: Int64 = 0
        var digits = 0
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]), digits < 18 {
            value = value * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
            digits += 1
            index += 1
        }
        guard digits > 0 else { return nil }
        return negative ? -value : value
    }
}
