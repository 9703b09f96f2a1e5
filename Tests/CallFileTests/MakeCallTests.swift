import CallFile
import Glibc
import Testing
@testable import MakeCall

/// The flag groups and the spool writer that mkcall (and later `spoold originate`) are made of.
@Suite struct CallOptionsTests {
    func options(_ arguments: [String]) throws -> CallOptions {
        try CallOptions.parse(arguments)
    }

    func refusal(_ arguments: [String]) -> String {
        do {
            _ = try CallOptions.parse(arguments)
            return "accepted"
        } catch {
            return CallOptions.message(for: error)
        }
    }

    @Test func applicationCall() throws {
        let file = try options(["--channel", "Local/s@answer", "--app", "Playback", "--data", "demo-congrats"]).callFile()
        #expect(file.mode == .application(name: "Playback", data: "demo-congrats"))
        #expect(file.channel == Channel(tech: "Local", resource: "s@answer"))
        #expect(file.alwaysDelete)
    }

    @Test func everyFlagReachesTheFile() throws {
        let file = try options([
            "--channel", "PJSIP/100", "--context", "wake", "--exten", "s", "--priority", "2",
            "--callerid", "\"Wakeup\" <100>", "--wait-time", "20", "--max-retries", "3", "--retry-time", "60",
            "--account", "acct", "--set", "A=1", "--set", "B=x=y", "--codecs", "ulaw", "--early-media",
            "--archive", "--no-always-delete",
        ]).callFile()
        #expect(file.mode == .dialplan(context: "wake", extension: "s", priority: 2))
        #expect(file.callerID == CallerID(parsing: "\"Wakeup\" <100>"))
        #expect([file.waitTime, file.maxRetries, file.retryTime] == [20, 3, 60])
        #expect(file.account == "acct")
        #expect(file.variables == [Variable(name: "A", value: "1"), Variable(name: "B", value: "x=y")])
        #expect(file.codecLines == ["ulaw"])
        #expect(file.earlyMedia && file.archive && !file.alwaysDelete)
    }

    @Test func semicolonsAreEscapedAndReadBack() throws {
        let bytes = try options(["--channel", "Local/s@t", "--app", "Verbose", "--data", "1;2"]).callFileBytes()
        #expect(String(decoding: bytes, as: UTF8.self).contains("Data: 1\\;2\n"))
        #expect(CallFileParser.parse(bytes, path: "x").file.data == "1;2")
    }

    @Test(arguments: [
        (["--app", "Echo"], "--channel"),
        (["--channel", "Local", "--app", "Echo"], "--channel"),
        (["--channel", "Local/s"], "--app/--exten"),
        (["--channel", "Local/s", "--app", "Echo", "--exten", "s"], "--exten"),
        (["--channel", "Local/s", "--app", "Echo", "--context", "c"], "--context"),
        (["--channel", "Local/s", "--app", "Echo", "--priority", "2"], "--priority"),
        (["--channel", "Local/s", "--exten", "s", "--data", "x"], "--data"),
        (["--channel", "Local/s", "--app", "Echo", "--early-media"], "--early-media"),
        (["--channel", "Local/s", "--exten", "s", "--priority", "0"], "--priority"),
        (["--channel", "Local/s", "--exten", "s", "--priority", "start"], "--priority"),
        (["--channel", "Local/s", "--app", "Echo", "--data", "a #b"], "--data"),
        (["--channel", "Local/s", "--app", "Echo", "--data", "#b"], "--data"),
        (["--channel", "Local/s", "--app", "Echo", "--data", " b"], "--data"),
        (["--channel", "Local/s", "--app", "Echo", "--data", "b\t"], "--data"),
        (["--channel", "Local/s", "--app", "Echo", "--data", "a\nb"], "--data"),
        (["--channel", "Local/s", "--app", "Echo", "--account", "a\rb"], "--account"),
        (["--channel", "Local/s", "--app", "Echo", "--data", String(repeating: "x", count: 1020)], "--data"),
        (["--channel", "Local/s", "--app", "Echo", "--set", "NOEQUALS"], "--set"),
        (["--channel", "Local/s", "--app", "Echo", "--set", "=x"], "--set"),
        (["--channel", "Local/s", "--app", "Echo", "--set", "A=x "], "--set"),
        (["--channel", "Local/s", "--app", "Echo", "--wait-time", "0"], "--wait-time"),
        (["--channel", "Local/s", "--app", "Echo", "--retry-time", "-5"], "--retry-time"),
        (["--channel", "Local/s", "--app", "Echo", "--callerid", " Bob"], "--callerid"),
        (["--channel", "Local/s", "--app", "Echo", "--codecs", "ulaw;"], "accepted"),
    ])
    func refusalsNameTheFlag(arguments: [String], flag: String) {
        let message = refusal(arguments)
        #expect(message.contains(flag), "\(message)")
    }
}

@Suite struct SpoolOptionsTests {
    @Test func inSetsTheDueTimeFromNow() throws {
        #expect(try SpoolOptions.parse(["--in", "5m"]).dueTime(now: 1000) == 1300)
        #expect(try SpoolOptions.parse([]).dueTime(now: 1000) == nil)
        #expect(try SpoolOptions.parse(["--at", "1795400000"]).dueTime(now: 1) == 1_795_400_000)
    }

    @Test(arguments: [
        (["--at", "1", "--in", "5m"], "--at"),
        (["--print", "--in", "5m"], "--in"),
        (["--print", "--spool-dir", "/tmp"], "--spool-dir"),
        (["--in", "5 minutes"], "--in"),
        (["--at", "tomorrow"], "--at"),
        (["--name", "a/b"], "--name"),
        (["--name", ".hidden"], "--name"),
        (["--mode", "999"], "--mode"),
        (["--owner", "no-such-user-here"], "--owner"),
        (["--owner", "root:no-such-group-here"], "--owner"),
    ])
    func refusalsNameTheFlag(arguments: [String], flag: String) {
        do {
            _ = try SpoolOptions.parse(arguments)
            Issue.record("accepted \(arguments)")
        } catch {
            #expect(SpoolOptions.message(for: error).contains(flag))
        }
    }

    @Test func ownerAndModeResolve() throws {
        let options = try SpoolOptions.parse(["--owner", "root:0", "--mode", "0640"])
        #expect(try options.resolvedOwner() == SpoolWriter.Owner(user: 0, group: 0))
        #expect(try options.resolvedMode() == 0o640)
    }
}

@Suite struct TimeSpecTests {
    @Test(arguments: [("90s", 90), ("5m", 300), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("0s", 0)])
    func durations(text: String, seconds: Int64) throws {
        #expect(try TimeSpec.seconds(fromIn: text) == seconds)
    }

    @Test(arguments: ["", "5", "m", "5x", "-5m", "5m3", "99999999999999999999s"])
    func badDurations(text: String) {
        #expect(throws: MakeCallError.self) { try TimeSpec.seconds(fromIn: text) }
    }

    @Test(arguments: [
        ("2026-11-22T16:16:59Z", 1_795_364_219),
        ("2026-11-22 16:16:59z", 1_795_364_219),
        ("2026-11-22T17:16:59+01:00", 1_795_364_219),
        ("2026-11-22T15:16:59-0100", 1_795_364_219),
        ("2026-11-22T16:16Z", 1_795_364_160),
        ("1970-01-01T00:00:00Z", 0),
        ("2024-02-29T00:00:00Z", 1_709_164_800),
        ("1795364219", 1_795_364_219),
    ])
    func times(text: String, epoch: Int64) throws {
        #expect(try TimeSpec.epoch(fromAt: text) == epoch)
    }

    @Test(arguments: ["2026-11-22T16:16:59", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-22T24:00:00Z", "soon"])
    func badTimes(text: String) {
        #expect(throws: MakeCallError.self) { try TimeSpec.epoch(fromAt: text) }
    }
}

@Suite struct SpoolWriterTests {
    /// A fresh spool root with an outgoing/ directory, removed afterwards.
    final class Spool {
        let root: String

        init() {
            var template = Array("/tmp/mkcall-test-XXXXXX".utf8CString)
            root = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
            mkdir(root + "/outgoing", 0o755)
        }

        deinit {
            for directory in [root + "/outgoing", root] {
                for name in Self.names(in: directory) { unlink(directory + "/" + name) }
            }
            rmdir(root + "/outgoing")
            rmdir(root)
        }

        static func names(in directory: String) -> [String] {
            guard let dir = opendir(directory) else { return [] }
            defer { closedir(dir) }
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { names.append(name) }
            }
            return names.sorted()
        }
    }

    let contents = Array("Channel: Local/s@t\nApplication: Echo\n".utf8)

    @Test func placesExactlyOneFileAndNoTemporary() throws {
        let spool = Spool()
        let path = try SpoolWriter.write(.init(contents: contents, spoolDirectory: spool.root, name: "a.call", mode: 0o640, dueTime: 2_000_000_000))
        #expect(path == spool.root + "/outgoing/a.call")
        #expect(Spool.names(in: spool.root) == ["outgoing"])
        #expect(Spool.names(in: spool.root + "/outgoing") == ["a.call"])
        var status = stat()
        #expect(stat(path, &status) == 0)
        #expect(status.st_mtim.tv_sec == 2_000_000_000)
        #expect(status.st_mode & 0o7777 == 0o640)
    }

    @Test func neverReplacesAnExistingFile() throws {
        let spool = Spool()
        _ = try SpoolWriter.write(.init(contents: contents, spoolDirectory: spool.root, name: "a.call"))
        #expect(throws: MakeCallError(flag: "--name", reason: "outgoing/a.call already exists; it was left untouched")) {
            try SpoolWriter.write(.init(contents: [1, 2, 3], spoolDirectory: spool.root, name: "a.call"))
        }
        #expect(Spool.names(in: spool.root) == ["outgoing"])
        let fd = open(spool.root + "/outgoing/a.call", O_RDONLY)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 100)
        let count = read(fd, &buffer, 100)
        #expect(Array(buffer.prefix(max(0, count))) == contents)
    }

    @Test func missingOutgoingIsAnErrorThatNamesTheSpool() {
        let spool = Spool()
        rmdir(spool.root + "/outgoing")
        do {
            _ = try SpoolWriter.write(.init(contents: contents, spoolDirectory: spool.root, name: "a.call"))
            Issue.record("wrote without outgoing/")
        } catch {
            #expect(error.flag == "--spool-dir")
        }
        #expect(Spool.names(in: spool.root).isEmpty)
    }

    // Root may give files away, so the refusal this error path needs only happens for other users.
    @Test(.enabled(if: getuid() != 0)) func failedChownLeavesNoTemporary() throws {
        let spool = Spool()
        #expect(throws: MakeCallError.self) {
            try SpoolWriter.write(.init(contents: contents, spoolDirectory: spool.root, name: "a.call", owner: .init(user: 0, group: 0)))
        }
        #expect(Spool.names(in: spool.root) == ["outgoing"])
    }

    @Test func defaultNameIsUniqueAndReadable() {
        #expect(SpoolWriter.defaultName(now: 1_795_364_219, pid: 42, random: 0xBEEF) == "mkcall-20261122T161659Z-42-0000beef.call")
    }
}
