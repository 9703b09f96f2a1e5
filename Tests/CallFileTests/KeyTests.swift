import Testing
@testable import CallFile

/// Reference §2.2–2.3: keys, aliases, defaults and boolean words.
@Suite struct KeyTests {
    @Test("Channel splits at the first '/', ASCII or not, keeping every byte on both sides")
    func channelSplit() {
        #expect(Channel(parsing: "PJSIP/100") == Channel(tech: "PJSIP", resource: "100"))
        #expect(Channel(parsing: "Local/100@ctx/n") == Channel(tech: "Local", resource: "100@ctx/n"))
        #expect(Channel(parsing: "/x") == Channel(tech: "", resource: "x"))
        #expect(Channel(parsing: "x/") == Channel(tech: "x", resource: ""))
        #expect(Channel(parsing: "no slash") == nil)
        #expect(Channel(parsing: "") == nil)
        #expect(Channel(parsing: "Sïp/ü@é") == Channel(tech: "Sïp", resource: "ü@é"))
        #expect(Channel(parsing: "é") == nil)
        #expect(Channel(parsing: "PJSIP/100").map(\.description) == "PJSIP/100")
        #expect(Channel(tech: "", resource: "").description == "/")
    }

    @Test func defaultsMatchAsterisk() {
        let file = CallFile()
        #expect(file.priority == 1)
        #expect(file.waitTime == 45)
        #expect(file.maxRetries == 0)
        #expect(file.retryTime == 300)
        #expect(file.alwaysDelete)
        #expect(!file.archive)
        #expect(!file.earlyMedia)
        #expect(file.finalCodecs == ["slin"])
        #expect(parse(minimalApp).file.waitTime == 45)
    }

    @Test func everyKeyIsRead() {
        let text = """
            Channel: SIP/trunk/5551234
            CallerID: "Wakeup Svc" <(555) 555-1234>
            WaitTime: 20
            MaxRetries: 2
            RetryTime: 60
            Account: acct7
            Context: wake
            Extension: s
            Priority: 3
            Set: A=1
            SetVar: B=x=y
            Codecs: ulaw,!slin
            AlwaysDelete: no
            Archive: yes
            Early_Media: on

            """
        let file = parse(text).file
        #expect(file.channel == Channel(tech: "SIP", resource: "trunk/5551234"))
        #expect(file.callerID == CallerID(raw: "\"Wakeup Svc\" <(555) 555-1234>", name: "Wakeup Svc", number: "5555551234"))
        #expect(file.waitTime == 20)
        #expect(file.maxRetries == 2)
        #expect(file.retryTime == 60)
        #expect(file.account == "acct7")
        #expect(file.mode == .dialplan(context: "wake", extension: "s", priority: 3))
        #expect(file.variables == [Variable(name: "A", value: "1"), Variable(name: "B", value: "x=y")])
        #expect(file.codecLines == ["ulaw,!slin"])
        #expect(file.finalCodecs == ["ulaw"])
        #expect(!file.alwaysDelete)
        #expect(file.archive)
        #expect(file.earlyMedia)
    }

    @Test func keysAreCaseInsensitive() {
        let file = parse("CHANNEL: Local/s@t\napplication: Echo\nsetvar: X=1\nEARLY_MEDIA: yes\n").file
        #expect(file.channel?.tech == "Local")
        #expect(file.application == "Echo")
        #expect(file.variables == [Variable(name: "X", value: "1")])
        #expect(file.earlyMedia)
    }

    @Test func scalarKeysLastWins() {
        let file = parse(minimalApp + "WaitTime: 10\nWaitTime: 12\nAccount: a\nAccount: b\n").file
        #expect(file.waitTime == 12)
        #expect(file.account == "b")
    }

    @Test func channelSplitsAtFirstSlashAndLastValidWins() {
        let result = parse("Channel: Local/100@ctx/n\nChannel: garbage\nApplication: Echo\n")
        #expect(result.file.channel == Channel(tech: "Local", resource: "100@ctx/n"))
        #expect(result.messages.contains("Channel should be in form Tech/Dest at line 2 of /spool/outgoing/t.call"))
        #expect(result.isRunnable)
        #expect(parse("Channel: A/b\nChannel: C/d\n").file.channel?.description == "C/d")
    }

    @Test func priorityReadsLeadingIntegerAndRejectsLabels() {
        #expect(parse("Priority: 2abc\n").file.priority == 2)
        let label = parse("Priority: start\n")
        #expect(label.file.priority == 1)
        #expect(label.diagnostics.first?.message == "Invalid priority at line 1 of /spool/outgoing/t.call")
        #expect(label.diagnostics.first?.hint?.contains("labels") == true)
        #expect(parse("Priority: 0\n").file.priority == 1)
        #expect(parse("Priority: 7\nPriority: -3\n").file.priority == 1)
    }

    @Test func numbersFallBackToDefaultsWithAsteriskWording() {
        let result = parse("MaxRetries: many\nRetryTime: 0\nWaitTime: -5\n")
        #expect(result.file.maxRetries == 0)
        #expect(result.file.retryTime == 300)
        #expect(result.file.waitTime == 45)
        #expect(result.messages.prefix(3) == [
            "Invalid max retries at line 1 of /spool/outgoing/t.call",
            "Invalid retrytime at line 2 of /spool/outgoing/t.call",
            "Invalid waittime at line 3 of /spool/outgoing/t.call",
        ])
    }

    @Test func negativeMaxRetriesIsAccepted() {
        let result = parse("MaxRetries: -1\n")
        #expect(result.file.maxRetries == -1)
        #expect(result.file.attemptsAllowed == 0)
        #expect(result.diagnostics.allSatisfy { $0.line == nil })
    }

    @Test func trailingTextAfterANumberIsWarned() {
        let result = parse("WaitTime: 30s\n")
        #expect(result.file.waitTime == 30)
        #expect(result.messages.contains("text after the number is ignored"))
    }

    @Test func hugeNumbersAreCutLikeGlibc() {
        let result = parse("RetryTime: 4294967297\n")
        #expect(result.file.retryTime == 1)
        #expect(result.messages.contains("number out of range"))
    }

    @Test func setSplitsAtFirstEqualsKeepingSpacesInTheName() {
        let file = parse("Set: spc =x\nSet: empty=\nSet: f(x)=a=b\n").file
        #expect(file.variables == [
            Variable(name: "spc ", value: "x"), Variable(name: "empty", value: ""), Variable(name: "f(x)", value: "a=b"),
        ])
    }

    @Test func malformedSetIsIgnoredWithAsteriskWording() {
        let result = parse("SetVar: novalue\n")
        #expect(result.file.variables.isEmpty)
        #expect(result.messages == [
            "Malformed \"SetVar\" argument.  Should be \"SetVar: variable=value\"",
            "At least one of app or extension must be specified, along with tech and dest in file /spool/outgoing/t.call",
        ])
    }

    @Test func setLinesKeepFileOrderAndLastWinsPerName() {
        let file = parse("Set: A=1\nSetVar: B=2\nset: A=3\n").file
        #expect(file.variables.map(\.value) == ["1", "2", "3"])
        #expect(file.effectiveVariables == [Variable(name: "A", value: "3"), Variable(name: "B", value: "2")])
    }

    @Test(arguments: ["yes", "YES", "true", "y", "T", "1", "on", "On"])
    func trueWords(word: String) {
        #expect(parse("Archive: \(word)\n").file.archive)
        #expect(parse("AlwaysDelete: no\nAlwaysDelete: \(word)\n").file.alwaysDelete)
    }

    @Test(arguments: ["no", "maybe", "", "0", "off", "yess", "2"])
    func everythingElseIsFalse(word: String) {
        #expect(!parse("Archive: yes\nArchive: \(word)\n").file.archive)
        #expect(!parse("AlwaysDelete: \(word)\n").file.alwaysDelete)
    }

    @Test func earlyMediaNeedsTheUnderscore() {
        let result = parse("EarlyMedia: yes\n")
        #expect(!result.file.earlyMedia)
        #expect(result.diagnostics.first?.message == "Unknown keyword 'EarlyMedia' at line 1 of /spool/outgoing/t.call")
        #expect(result.diagnostics.first?.hint?.contains("Early_Media") == true)
    }

    @Test(arguments: ["MaxCallTime", "Async", "Variable", "CallerIDName", "CallerIDNum", "Timeout", "ChannelId", "Status"])
    func keysThatDoNotExist(key: String) {
        let result = parse(minimalApp + "\(key): 1\n")
        #expect(result.messages.first == "Unknown keyword '\(key)' at line 4 of /spool/outgoing/t.call")
        #expect(result.isRunnable)
    }
}
