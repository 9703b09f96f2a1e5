import Testing
@testable import CallFile

/// AMI's own limits on the Originate a call file becomes (contract, "Limits of AMI itself"): Asterisk's
/// spool reads a `Set:` line of up to 1022 bytes, but AMI reads request lines of at most 1024 bytes, CRLF
/// included, and `Variable: ` is six bytes longer than `Set:`.
@Suite("AMI limits on the Originate")
struct OriginateLimitTests {
    /// A Set line whose `Variable: V=…` header is `length` bytes on the wire, CRLF included.
    static func set(variableLineLength length: Int) -> String {
        let line = "Set: V=" + String(repeating: "v", count: length - "Variable: V=".count - 2)
        precondition(line.utf8.count <= 1022, "a line Asterisk's spool reads")
        return line + "\n"
    }

    @Test("A Variable header of 1024 bytes passes; 1025 bytes: refused, naming the header, its line, its length and the limit")
    func variableBoundary() throws {
        let fits = parse(minimalApp + Self.set(variableLineLength: 1024))
        #expect(fits.rejection == nil)
        #expect(fits.diagnostics.isEmpty)
        #expect(fits.isRunnable)

        let line = Self.set(variableLineLength: 1025)
        #expect(line.utf8.count - 1 <= 1022, "Asterisk's spool reads this line")
        let over = parse(minimalApp + line)
        #expect(over.invalidReason == nil, "Asterisk's spool would run it")
        let rejection = try #require(over.rejection)
        #expect(rejection.line == 4)
        #expect(rejection.reason == "AMI line limit: the Variable header for V (line 4) would be 1025 bytes, over the 1024 bytes Asterisk's manager reads")
        #expect(rejection.detail.contains("1025-byte line"))
        #expect(rejection.consequence.contains("Failed to parse message: line too long"))
        let warning = try #require(over.diagnostics(on: 4).first)
        #expect(warning.severity == .warning)
        #expect(warning.message == "the AMI Variable header for V would be 1025 bytes, over AMI's 1024-byte line limit")
    }

    @Test("Only what is sent counts: the last Set of a name, and never a Set of AST_OUTGOING_ATTEMPT")
    func onlyWhatIsSent() throws {
        let long = String(repeating: "v", count: 1012)
        #expect(parse(minimalApp + "Set: V=\(long)\nSet: V=short\n").rejection == nil, "the last Set wins")
        #expect(parse(minimalApp + "Set: V=short\nSetVar: V=\(long)\n").rejection?.line == 5)
        let attempt = "Set: AST_OUTGOING_ATTEMPT=" + String(repeating: "9", count: 996)
        #expect(attempt.utf8.count == 1022)
        #expect(parse(minimalApp + attempt + "\n").rejection == nil,
                "spoold sends the attempt number instead")
    }

    @Test("Data, Channel, Context and Account can go over too, by the length of their header names")
    func otherHeaders() throws {
        // "Data:" with no space is 5 bytes; "Data: " plus CRLF is 8: a 1022-byte line gives a 1025-byte header.
        let data = "Data:" + String(repeating: "d", count: 1017)
        let parsed = parse("Channel: Local/s@answer\nApplication: Playback\n\(data)\n")
        #expect(parsed.rejection?.reason.hasPrefix("AMI line limit: the Data header (line 3) would be 1025 bytes") == true)
        let account = "Account:" + String(repeating: "a", count: 1014)
        #expect(parse(minimalApp + account + "\n").rejection?.reason.hasPrefix("AMI line limit: the Account header (line 4) would be 1025 bytes") == true)
        let context = "Context:" + String(repeating: "c", count: 1014)
        #expect(parse("Channel: Local/s@t\nExtension: s\n\(context)\n").rejection?.line == 3)
        // Extension is sent as "Exten: ", shorter than the key: it never goes over.
        let exten = "Extension:" + String(repeating: "e", count: 1012)
        #expect(parse("Channel: Local/s@t\n\(exten)\n").rejection == nil)
    }

    @Test("More Set names than AMI's 128 request lines hold: refused")
    func tooManyLines() throws {
        let sets = (0..<110).map { "Set: V\($0)=1\n" }.joined()
        #expect(parse(minimalApp + sets).rejection == nil)
        let more = (0..<125).map { "Set: V\($0)=1\n" }.joined()
        let parsed = parse(minimalApp + more)
        #expect(parsed.rejection?.reason == "AMI request limit: the Originate would be 136 lines, over the 128 Asterisk's manager reads")
        #expect(OriginateLimits.lineCount(of: parsed.file) == 136)
    }

    @Test("A file that is never dialled is only warned about: invalid, finished, or out of attempts")
    func neverDialledIsOnlyWarned() throws {
        let line = Self.set(variableLineLength: 1029)
        let invalid = parse("Channel: Local/s\n" + line)
        #expect(invalid.invalidReason != nil)
        #expect(invalid.rejection == nil)
        #expect(invalid.diagnostics(on: 2).contains { $0.severity == .warning && $0.message.contains("1024-byte line limit") })
        #expect(parse(minimalApp + line + "StartRetry: 1 1 (5)\nStatus: Completed\n").rejection == nil)
        #expect(parse(minimalApp + line + "MaxRetries: 0\nEndRetry: 1 1 (5)\n").rejection == nil)
    }

    @Test("spoold check warns with the line and the limit, and says spoold would fail the file")
    func checkReport() throws {
        let text = minimalApp + Self.set(variableLineLength: 1029)
        let report = CheckReport(path: "long.call", outcome: .parsed(parse(text, path: "long.call"), mtime: 0))
        #expect(!report.isValid)
        #expect(report.textLines.first == "long.call:4: warning: the AMI Variable header for V would be 1029 bytes, over AMI's 1024-byte line limit (Asterisk's spool reads this line, but Asterisk refuses such an Originate; spoold fails the file without dialling)")
        #expect(report.textLines.last == "long.call: refused (AMI line limit: the Variable header for V (line 4) would be 1029 bytes, over the 1024 bytes Asterisk's manager reads): spoold would finish it with Status: Failed without dialling")
    }

    @Test("The headers counted are the ones the Originate carries, with the same lengths")
    func headersAsSent() throws {
        let file = parse("Channel: PJSIP/100\nContext: out\nExtension: s\nCallerID: Bob <(555) 1>\nAccount: acc\nSet: A=1\nSet: B=x=y\nCodecs: ulaw\n").file
        let headers = OriginateLimits.headers(of: file, lines: [:])
        #expect(headers.map { "\($0.name): \($0.value)" } == [
            "Channel: PJSIP/100", "Context: out", "Exten: s", "CallerID: \"Bob\" <5551>", "Account: acc",
            "Variable: A=1", "Variable: B=x=y", "Codecs: slin,ulaw",
        ])
        #expect(headers.first?.length == "Channel: PJSIP/100\r\n".utf8.count)
    }
}
