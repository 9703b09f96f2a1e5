import Testing
@testable import CallFile

@Suite struct WriterTests {
    static func appFile() -> CallFile {
        var file = CallFile()
        file.channel = Channel(tech: "Local", resource: "s@answer")
        file.application = "Playback"
        file.data = "demo-congrats"
        return file
    }

    @Test func writesAReadableFile() throws {
        var file = Self.appFile()
        file.callerID = CallerID(parsing: "\"Wakeup\" <100>")
        file.variables = [Variable(name: "A", value: "x;y")]
        file.codecLines = ["ulaw"]
        file.archive = true
        let text = String(decoding: try CallFileWriter.bytes(for: file), as: UTF8.self)
        #expect(text == """
            Channel: Local/s@answer
            CallerID: "Wakeup" <100>
            Application: Playback
            Data: demo-congrats
            WaitTime: 45
            MaxRetries: 0
            RetryTime: 300
            Set: A=x\\;y
            Codecs: ulaw
            Archive: yes

            """)
        #expect(parse(text).file == file)
    }

    @Test func dialplanModeAlwaysNamesThePriority() throws {
        var file = CallFile()
        file.channel = Channel(tech: "SIP", resource: "100")
        file.context = "wake"
        file.extension = "s"
        let text = String(decoding: try CallFileWriter.bytes(for: file), as: UTF8.self)
        #expect(text.contains("Priority: 1\n"))
        #expect(parse(text).file == file)
    }

    @Test func recordsAreWrittenInAsteriskFormat() throws {
        var file = Self.appFile()
        file.records = [RetryRecord(kind: .start, pid: 5, number: 1, epoch: 99)]
        let bytes = try CallFileWriter.bytes(for: file)
        #expect(String(decoding: bytes, as: UTF8.self).hasSuffix("RetryTime: 300\n\nStartRetry: 5 1 (99)\n"))
        #expect(parse(bytes: bytes).file.inFlightStart?.line == 8)
    }

    static let refusals: [(String, @Sendable (inout CallFile) -> Void, CallFileWriter.Error.Field)] = [
        ("no channel", { $0.channel = nil }, .channel),
        ("empty tech", { $0.channel = Channel(tech: "", resource: "x") }, .channel),
        ("empty resource", { $0.channel = Channel(tech: "Local", resource: "") }, .channel),
        ("newline", { $0.data = "a\nb" }, .data),
        ("CR", { $0.data = "a\rb" }, .data),
        ("NUL", { $0.account = "a\u{0}b" }, .account),
        ("other control", { $0.account = "a\u{1B}b" }, .account),
        ("hash at start", { $0.data = "#1" }, .data),
        ("hash after space", { $0.data = "a #1" }, .data),
        ("hash after tab", { $0.data = "a\t#1" }, .data),
        ("leading space", { $0.data = " a" }, .data),
        ("trailing space", { $0.data = "a " }, .data),
        ("trailing tab", { $0.account = "a\t" }, .account),
        ("long line", { $0.data = String(repeating: "d", count: 1017) }, .data),
        ("priority zero", { $0.priority = 0 }, .priority),
        ("wait time zero", { $0.waitTime = 0 }, .waitTime),
        ("retry time negative", { $0.retryTime = -1 }, .retryTime),
        ("huge max retries", { $0.maxRetries = Int(Int32.max) + 1 }, .maxRetries),
        ("no mode", { $0.application = "" }, .mode),
        ("set name empty", { $0.variables = [Variable(name: "", value: "x")] }, .variable(0)),
        ("set name with =", { $0.variables = [Variable(name: "A", value: "1"), Variable(name: "a=b", value: "x")] }, .variable(1)),
        ("long application", { $0.application = String(repeating: "A", count: 32) }, .application),
        ("long extension", { $0.extension = String(repeating: "1", count: 80) }, .extension),
        ("inconsistent caller ID", { $0.callerID = CallerID(raw: "Bob <1>", name: "Alice", number: "1") }, .callerID),
        ("codecs line with newline", { $0.codecLines = ["ulaw\n"] }, .codecs(0)),
    ]

    @Test(arguments: 0..<refusals.count)
    func refusesWhatAsteriskWouldCutOrMisread(case index: Int) {
        let (name, change, field) = Self.refusals[index]
        var file = Self.appFile()
        change(&file)
        #expect(throws: CallFileWriter.Error.self, "\(name)") { try CallFileWriter.bytes(for: file) }
        do {
            _ = try CallFileWriter.bytes(for: file)
        } catch {
            #expect(error.field == field, "\(name)")
        }
    }

    @Test func emptyValuesCarryNoTrailingSpace() throws {
        var file = Self.appFile()
        file.callerID = CallerID(parsing: "")
        file.codecLines = [""]
        let text = String(decoding: try CallFileWriter.bytes(for: file), as: UTF8.self)
        #expect(text.contains("\nCallerID:\n"))
        #expect(text.contains("\nCodecs:\n"))
        #expect(parse(text).file == file)
    }

    @Test func longestLineAsteriskKeepsIsAccepted() throws {
        var file = Self.appFile()
        file.data = String(repeating: "d", count: 1022 - "Data: ".count)
        #expect(parse(bytes: try CallFileWriter.bytes(for: file)).file == file)
    }

    @Test func backslashesAndSemicolonsSurvive() throws {
        var file = Self.appFile()
        file.data = "a\\;b;\\c;;"
        #expect(parse(bytes: try CallFileWriter.bytes(for: file)).file.data == "a\\;b;\\c;;")
    }
}
