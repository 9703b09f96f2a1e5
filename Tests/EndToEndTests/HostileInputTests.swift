import Foundation
import Testing
import TestSupport

/// Contract §5: hostile and broken input. Each case gets a log line naming the file and the cause, no file
/// is lost, nothing blocks, nothing is followed, nothing crashes.
@Suite("Hostile and broken input")
struct HostileInputTests {
    static let answered = callFile(["Channel": "Sim/answer", "Application": "Playback", "Data": "x", "Archive": "yes"])

    static func logLine(in spoold: SpooldProcess, naming name: String, _ cause: String) -> Bool {
        spoold.logLines.contains { $0.contains(name) && $0.localizedCaseInsensitiveContains(cause) }
    }

    @Test("A symlink is never followed: its target is neither read into a call nor written, and the link is Failed")
    func symlinkNotFollowed() async throws {
        let spool = try TemporarySpool()
        let target = spool.staging + "/target.call"
        try FileSystem.write(Array(Self.answered.utf8), to: target)
        try await withSpoold(spool: spool) { spoold in
            try FileSystem.symlink(target, at: spool.outgoingPath("link.call"))
            try await spool.waitForRemoval("link.call", by: spoold)
            try await spoold.waitUntil("a log line naming link.call and 'symlink'") {
                Self.logLine(in: spoold, naming: "link.call", "symlink")
            }
            #expect(FileSystem.read(target) == Array(Self.answered.utf8), "the target was written through the link")
            // Moved aside, not lost: the link itself (or a Failed note) under a name starting with link.call.
            let aside = spool.doneNames().filter { $0.hasPrefix("link.call") }
            #expect(aside.count == 1, "outgoing_done: \(spool.doneNames())")
            for name in aside {
                let info = try #require(FileSystem.lstatus(spool.donePath(name)))
                if info.st_mode & S_IFMT == S_IFREG {
                    let archived = ArchivedCallFile(bytes: FileSystem.read(spool.donePath(name)) ?? [])
                    #expect(archived.status == "Failed")
                    #expect(archived.records.isEmpty, "dialled through the link")
                } else {
                    #expect(info.st_mode & S_IFMT == S_IFLNK)
                }
            }
        }
    }

    @Test("FIFOs, sockets and directories in outgoing are skipped with a warning and block nothing, at start-up or later")
    func specialFilesSkipped() async throws {
        let spool = try TemporarySpool()
        try FileSystem.makeFIFO(spool.outgoingPath("startup.fifo"))
        try FileSystem.makeSocket(spool.outgoingPath("startup.sock"))
        try FileManager.default.createDirectory(atPath: spool.outgoingPath("startup.dir"), withIntermediateDirectories: false)
        try await withSpoold(spool: spool) { spoold in
            try FileSystem.makeFIFO(spool.outgoingPath("later.fifo"))
            try FileSystem.makeSocket(spool.outgoingPath("later.sock"))
            try FileManager.default.createDirectory(atPath: spool.outgoingPath("later.dir"), withIntermediateDirectories: false)
            try spool.submit("real.call", Self.answered)
            let file = try await spool.waitForArchive("real.call", by: spoold)
            #expect(file.status == "Completed")
            let specials = ["startup.fifo", "startup.sock", "startup.dir", "later.fifo", "later.sock", "later.dir"]
            try await spoold.waitUntil("a warning naming each special file") {
                specials.allSatisfy { name in spoold.logLines.contains { $0.contains(name) } }
            }
            #expect(specials.allSatisfy { spool.isInOutgoing($0) }, "outgoing: \(spool.outgoingNames())")
            #expect(spoold.isRunning)
        }
    }

    @Test("Files over 1 MiB are Failed 'too large'; exactly 1 MiB is a normal call", arguments: [1 << 20, (1 << 20) + 1])
    func sizeLimit(size: Int) async throws {
        var bytes = Array(Self.answered.utf8)
        let filler = Array("; padding comment line, ignored by the parser\n".utf8)
        while bytes.count + filler.count <= size { bytes += filler }
        bytes += Array(repeating: UInt8(ascii: ";"), count: size - bytes.count - 1) + [UInt8(ascii: "\n")]
        #expect(bytes.count == size)
        let spool = try TemporarySpool()
        try await withSpoold(spool: spool) { spoold in
            try spool.submit("big.call", bytes: bytes)
            let file = try await spool.waitForArchive("big.call", by: spoold)
            #expect(file.bytes.starts(with: bytes), "the original bytes were not kept")
            if size > 1 << 20 {
                #expect(file.status == "Failed")
                #expect(file.records.isEmpty, "a too-large file was dialled")
                try await spoold.waitForLogLine("saying big.call is too large") {
                    $0.contains("big.call") && $0.localizedCaseInsensitiveContains("too large")
                }
            } else {
                #expect(file.status == "Completed")
            }
        }
    }

    @Test("A CR or NUL inside a value is Failed 'control character' and never dialled", arguments: [
        "Data: first\rAction: Originate\n",
        "Data: before\u{0}after\n",
        "Channel: Sim/answer\rX\n",
    ])
    func controlCharacters(line: String) async throws {
        let text = "Channel: Sim/answer\nApplication: Playback\n" + line + "Archive: yes\n"
        let spool = try TemporarySpool()
        try await withSpoold(spool: spool) { spoold in
            try spool.submit("smuggle.call", text)
            let file = try await spool.waitForArchive("smuggle.call", by: spoold)
            #expect(file.status == "Failed")
            #expect(file.records.isEmpty, "dialled:\n\(file.text)")
            #expect(file.bytes.starts(with: Array(text.utf8)))
            try await spoold.waitForLogLine("naming smuggle.call's control character") {
                $0.contains("smuggle.call") && $0.localizedCaseInsensitiveContains("control character")
            }
        }
    }

    @Test("CRLF line ends and non-UTF-8 bytes in values are ordinary input")
    func crlfAndLatin1AreFine() async throws {
        let spool = try TemporarySpool()
        let crlf = "Channel: Sim/answer\r\nApplication: Playback\r\nData: x\r\nArchive: yes\r\n"
        let latin1: [UInt8] = Array("Channel: Sim/answer\nApplication: Playback\nData: caf".utf8) + [0xE9, 0xFF, 0x80]
            + Array("\nArchive: yes\n".utf8)
        try await withSpoold(spool: spool) { spoold in
            try spool.submit("crlf.call", crlf)
            try spool.submit("latin1.call", bytes: latin1)
            #expect(try await spool.waitForArchive("crlf.call", by: spoold).status == "Completed")
            let file = try await spool.waitForArchive("latin1.call", by: spoold)
            #expect(file.status == "Completed")
            #expect(file.bytes.starts(with: latin1), "the non-UTF-8 bytes were altered")
        }
    }

    @Test("Random binary bytes never crash spoold; the file is Failed")
    func binaryGarbage() async throws {
        var generator = SplitMix64(seed: 0x5EED)
        var bytes = Array("Archive: yes\n".utf8)
        for _ in 0..<8192 { bytes.append(UInt8(truncatingIfNeeded: generator.next())) }
        // No line may name a Channel, so the file is invalid whatever the bytes are.
        bytes = bytes.map { $0 == UInt8(ascii: ":") ? UInt8(ascii: "=") : $0 }
        bytes.replaceSubrange(0..<13, with: Array("Archive: yes\n".utf8))
        let spool = try TemporarySpool()
        try await withSpoold(spool: spool) { spoold in
            try spool.submit("garbage.call", bytes: bytes)
            let file = try await spool.waitForArchive("garbage.call", by: spoold)
            #expect(file.status == "Failed")
            #expect(file.bytes.starts(with: bytes))
            #expect(spoold.isRunning)
        }
    }
}
