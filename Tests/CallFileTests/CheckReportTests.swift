import Testing
@testable import CallFile

@Suite struct CheckReportTests {
    @Test func validFileSaysHowItRuns() {
        let report = CheckReport(path: "a.call", outcome: .parsed(parse(minimalApp), mtime: 1_795_364_219))
        #expect(report.isValid)
        #expect(report.textLines == [
            "a.call: application mode, Local/s@answer -> Playback(demo-congrats), attempts used 0 of 1, due 2026-11-22T16:16:59Z",
        ])
    }

    @Test func diagnosticsAreCompilerStyle() {
        let report = CheckReport(path: "b.call", outcome: .parsed(parse("Channel: Local/s@t\nExtension: s\nFoo: 1\n", path: "b.call"), mtime: 0))
        #expect(report.textLines == [
            "b.call:3: warning: Unknown keyword 'Foo' at line 3 of b.call (the line is ignored)",
            "b.call: dialplan mode, Local/s@t -> s@<channel's context>,1, attempts used 0 of 1, due 1970-01-01T00:00:00Z",
        ])
    }

    @Test func usedUpAttemptsAndInFlightStartAreShown() {
        let text = "Channel: Local/s@t\nApplication: Echo\nMaxRetries: 1\nEndRetry: 1 1 (5)\nStartRetry: 1 2 (9)\n"
        let line = CheckReport(path: "c", outcome: .parsed(parse(text), mtime: 0)).textLines.last ?? ""
        #expect(line.contains("attempts used 1 of 2"))
        #expect(line.contains("attempt 2 in flight (StartRetry pid 1)"))
        let expired = CheckReport(path: "c", outcome: .parsed(parse(text + "Retry: x\n"), mtime: 0)).textLines.last ?? ""
        #expect(expired.contains("would expire without dialling"))
    }

    @Test func aFinishedFileSaysItWouldBeArchivedNotDialled() {
        let text = minimalApp + "\nStartRetry: 7 1 (9)\nStatus: Completed\n"
        let report = CheckReport(path: "g", outcome: .parsed(parse(text), mtime: 0))
        #expect(report.textLines.last == "g: finished (Status: Completed follows its last attempt): spoold would archive it without dialling; remove the Status line to have it dialled again")
        #expect(report.jsonLine.contains(#""finishedStatus":"Completed""#))
    }

    @Test func invalidAndRefusedFilesAreNotValid() {
        let invalid = CheckReport(path: "d", outcome: .parsed(parse("Channel: Local/s\nArchive: yes\n"), mtime: 0))
        #expect(!invalid.isValid)
        #expect(invalid.textLines.last == "d: invalid: Asterisk and spoold would not dial it; it would be archived to outgoing_done/ with Status: Failed")
        let refused = CheckReport(path: "e", outcome: .parsed(parse(minimalApp + "Account: a\rb\n"), mtime: 0))
        #expect(!refused.isValid)
        #expect(refused.textLines.last?.hasPrefix("e: refused (control character)") == true)
        let unreadable = CheckReport(path: "f", outcome: .unreadable(reason: "is a symlink; spoold never follows symlinks"))
        #expect(unreadable.textLines == ["f: error: is a symlink; spoold never follows symlinks"])
        #expect(unreadable.jsonLine == #"{"path":"f","valid":false,"error":"is a symlink; spoold never follows symlinks"}"#)
    }

    @Test func jsonCarriesTheSameFactsAndEscapes() {
        let report = CheckReport(path: "q\"\u{1}.call", outcome: .parsed(parse(minimalApp + "X\\: 1\n", path: "p"), mtime: 86400))
        #expect(report.jsonLine == #"{"path":"q\"\u0001.call","valid":true,"invalidReason":null,"rejection":null,"mode":"application","channel":"Local/s@answer","destination":"Playback(demo-congrats)","attemptsUsed":0,"attemptsAllowed":1,"inFlight":null,"finishedStatus":null,"dueTime":86400,"dueTimeUTC":"1970-01-02T00:00:00Z","diagnostics":[{"line":4,"severity":"warning","message":"Unknown keyword 'X\\' at line 4 of p","hint":"the line is ignored"}]}"#)
    }

    @Test(arguments: [(0, "1970-01-01T00:00:00Z"), (951_782_400, "2000-02-29T00:00:00Z"), (-1, "1969-12-31T23:59:59Z"), (4_102_444_799, "2099-12-31T23:59:59Z")])
    func isoDates(epoch: Int64, text: String) {
        #expect(CheckReport.iso8601(epoch) == text)
    }
}
