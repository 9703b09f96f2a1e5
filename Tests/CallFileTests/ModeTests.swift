import Testing
@testable import CallFile

/// Reference §2.4 (CallerID, Codecs) and §2.5 (mode and validity).
@Suite struct ModeTests {
    @Test func applicationWinsOverExtension() {
        let result = parse("Channel: Local/s@t\nContext: c\nExtension: s\nApplication: Echo\nData: d\n")
        #expect(result.file.mode == .application(name: "Echo", data: "d"))
        #expect(result.isRunnable)
        #expect(result.diagnostics.contains { $0.severity == .note && $0.message.hasPrefix("application mode") })
    }

    @Test func extensionModeNeedsNoContextOrPriority() {
        let result = parse("Channel: Local/s@t\nExtension: 100\n")
        #expect(result.file.mode == .dialplan(context: "", extension: "100", priority: 1))
        #expect(result.invalidReason == nil)
    }

    @Test(arguments: [
        "Application: Echo\n",
        "Channel: Local/s@t\n",
        "Channel: /s@t\nApplication: Echo\n",
        "Channel: Local/\nApplication: Echo\n",
        "Channel: nochannel\nApplication: Echo\n",
        "Channel: Local/s@t\nContext: c\nPriority: 1\n",
        "",
    ])
    func invalidFiles(text: String) {
        let result = parse(text)
        #expect(result.invalidReason
            == "At least one of app or extension must be specified, along with tech and dest in file /spool/outgoing/t.call")
        #expect(!result.isRunnable)
        #expect(result.diagnostics.last?.severity == .error)
    }

    /// Reference §3: none of these makes a file invalid.
    @Test func syntaxErrorsUnknownKeysBadNumbersMalformedSetAndUnknownTechStayValid() {
        let result = parse("Channel: NoSuchTech/x\nno colon here\nFrobnicate: 1\nWaitTime: soon\nSet: nothing\nExtension: s\n")
        #expect(result.invalidReason == nil)
        #expect(result.isRunnable)
        #expect(result.diagnostics.count == 4)
        #expect(result.diagnostics.allSatisfy { $0.severity == .warning })
    }

    /// Reference §3: an invalid file is removed using the options parsed from it.
    @Test func invalidFileKeepsItsParsedOptions() {
        let result = parse("Channel: Local/s@answer\nWaitTime: 10\nArchive: yes\nAlwaysDelete: no\n")
        #expect(result.invalidReason != nil)
        #expect(result.file.archive)
        #expect(!result.file.alwaysDelete)
    }

    @Test func laterEmptyTechStillReplacesTheChannel() {
        let result = parse("Channel: Local/s@t\nChannel: /x\nApplication: Echo\n")
        #expect(result.file.channel == Channel(tech: "", resource: "x"))
        #expect(result.invalidReason != nil)
    }

    @Test(arguments: [
        ("\"Wakeup Svc\" <(555) 555-1234>", "Wakeup Svc", "5555551234"),
        ("Bob <100>", "Bob", "100"),
        ("<100", "", "100"),
        ("a <1> b <2>", "a <1> b", "2"),
        ("(555) 555-1234", "", "5555551234"),
        ("+1 555 123", "", "+1555123"),
        ("\"5551234\"", "5551234", ""),
        ("Reception", "Reception", ""),
        ("  \"Q \\\"x\\\"\" <1.2.>  ", "Q \"x\"", "12."),
        ("N <1-[2-3]>", "N", "1[2-3]"),
    ])
    func callerIDRules(raw: String, name: String, number: String) {
        let id = CallerID(parsing: raw)
        #expect(id.raw == raw)
        #expect(id.name == name)
        #expect(id.number == number)
    }

    @Test func callerIDPartsAreCutTo79Bytes() {
        let id = CallerID(parsing: String(repeating: "n", count: 100) + " <" + String(repeating: "1", count: 100) + ">")
        #expect(id.name.utf8.count == 79)
        #expect(id.number.utf8.count == 79)
    }

    @Test func codecsStartFromSlinAndApplyInTurn() {
        #expect(parse("Codecs: ulaw\n").file.finalCodecs == ["slin", "ulaw"])
        #expect(parse("Codecs: ulaw|alaw\nCodecs: !slin, !ulaw\n").file.finalCodecs == ["alaw"])
        #expect(parse("Codecs: !all,g722\n").file.finalCodecs == ["g722"])
        #expect(parse("Codecs: ulaw:20\n").file.finalCodecs == ["slin", "ulaw:20"])
    }

    @Test func unknownCodecIsSkippedAndTheRestApplies() {
        let result = parse("Codecs: ulaw,bogus,alaw\n")
        #expect(result.file.finalCodecs == ["slin", "ulaw", "alaw"])
        #expect(result.messages.first == "Cannot allow unknown format 'bogus'")
        #expect(result.diagnostics.first?.line == 1)
    }
}
