import CallFile
import Testing
@testable import Spooler

/// `StartupSweep`: which listed files are swept, and one batch per turn.
@Suite("The start-up sweep")
struct StartupSweepTests {
    static let now = SpoolInstant(seconds: 1_795_364_000)

    static func info(_ mtime: SpoolInstant, _ kind: EntryKind = .regular) -> EntryInfo {
        EntryInfo(kind: kind, mtime: mtime, size: 40, uid: 0, mode: 0o644, fileID: FileID(device: 1, inode: 7))
    }

    @Test("Only a regular file whose mtime lies ahead is swept", arguments: [
        (Optional(info(now.adding(seconds: 1))), true),
        (info(now), false),
        (info(now.adding(seconds: -60)), false),
        (info(now.adding(seconds: 60), .symlink), false),
        (info(now.adding(seconds: 60), .other("FIFO")), false),
        (nil, false),
    ])
    func swept(info: EntryInfo?, swept: Bool) {
        var sweep = StartupSweep()
        sweep.consider("f.call", info, now: Self.now)
        #expect(sweep.isEmpty == !swept)
    }

    @Test("At most 256 files per turn and one batch per turn, until none is left")
    func batches() {
        var sweep = StartupSweep()
        sweep.reserve(600)
        for i in 0..<600 { sweep.consider("f\(i).call", Self.info(Self.now.adding(seconds: 60)), now: Self.now) }
        sweep.listingDone()
        var sizes: [Int] = []
        var seen = Set<String>()
        for _ in 0..<4 {
            let batch = sweep.nextBatch { $0 }
            let again = sweep.nextBatch { $0 }
            #expect(again == nil, "a second batch in the same turn")
            sizes.append(batch?.count ?? -1)
            seen.formUnion(batch ?? [])
            sweep.turnOver()
        }
        #expect(sizes == [256, 256, 88, -1])
        #expect(seen.count == 600 && sweep.isEmpty)
    }

    @Test("A name the reader drops is not in the batch, and is not read again")
    func dropped() {
        var sweep = StartupSweep()
        for name in ["a.call", "b.call", "c.call"] { sweep.consider(name, Self.info(Self.now.adding(seconds: 1)), now: Self.now) }
        let batch = sweep.nextBatch { $0 == "b.call" ? nil : $0 }
        #expect(batch.map(Set.init) == ["a.call", "c.call"])
        sweep.turnOver()
        #expect(sweep.nextBatch { $0 } == nil && sweep.count == 0)
    }

    static func read(_ text: String) -> SpoolStateMachine.ReadResult {
        .read(Array(text.utf8), EntryInfo(kind: .regular, mtime: now.adding(seconds: 600), size: 80, uid: 0, mode: 0o644,
                                          fileID: FileID(device: 1, inode: 5)))
    }

    @Test("A swept file's read: a Status line (archived), an interrupted attempt of a runnable file (recovered), or nothing")
    func found() throws {
        let call = "Channel: Sim/x\nApplication: Wait\nMaxRetries: 2\n"
        let plain = StartupSweep.found(Self.read(call), path: "/o/s.call")
        #expect(plain.runnable == CallFileParser.parse(Array(call.utf8), path: "/o/s.call").file && plain.1 == .nothing)
        let marked = call + "StartRetry: 9 1 (1795363000)\nStatus: Completed\n"
        #expect(StartupSweep.found(Self.read(marked), path: "/o/s.call").1 == .finished(.completed, FileID(device: 1, inode: 5)))
        let interrupted = call + "StartRetry: 9 1 (1795363000)\n"
        let file = CallFileParser.parse(Array(interrupted.utf8), path: "/o/s.call").file
        let start = try #require(file.inFlightStart)
        #expect(StartupSweep.found(Self.read(interrupted), path: "/o/s.call") == (file, .interrupted(file, start)))
        // Not runnable (no Application or Extension): nothing recovered, nothing remembered; still archived when marked.
        let invalid = StartupSweep.found(Self.read("Channel: Sim/x\nStartRetry: 9 1 (1795363000)\n"), path: "/o/s.call")
        #expect(invalid.runnable == nil && invalid.1 == .nothing)
        #expect(StartupSweep.found(Self.read("Channel: Sim/x\nStartRetry: 9 1 (1795363000)\nStatus: Failed\n"), path: "/o/s.call")
            .1 == .finished(.failed, FileID(device: 1, inode: 5)))
        #expect(StartupSweep.found(.gone, path: "/o/s.call") == (nil, .nothing))
    }
}

/// `StartupSweep.adopt`: the listing as the list's storage sweeps exactly what the plain list sweeps.
@Suite("The start-up sweep on an adopted listing")
struct StartupSweepAdoptionTests {
    static let now = StartupSweepTests.now

    /// Every batch of a sweep until it is empty; `consider` is fed `considered` (a name and whether it lies ahead).
    static func batches(adopting listing: [String]?, _ considered: [(String, Bool)], sweepAfter: Int? = nil) -> [[String]] {
        var sweep = StartupSweep()
        if let listing { sweep.adopt(listing) }
        sweep.reserve(considered.count)
        var result: [[String]] = []
        for (index, (name, ahead)) in considered.enumerated() {
            let info = StartupSweepTests.info(ahead ? now.adding(seconds: 60) : now.adding(seconds: -1))
            sweep.consider(name, info, now: now)
            if index == sweepAfter {  // a batch taken while names are still being considered
                result.append(sweep.nextBatch { $0 } ?? [])
                sweep.turnOver()
            }
        }
        sweep.listingDone()
        while let batch = sweep.nextBatch({ $0 }) {
            result.append(batch)
            sweep.turnOver()
        }
        #expect(sweep.isEmpty && sweep.count == 0)
        return result
    }

    static let listing = (0..<1000).map { "f\($0).call" }
    /// Ahead or not by a pattern with runs of both, across word boundaries of the marks.
    static let aheads = (0..<1000).map { $0 % 7 != 3 && !(130..<200).contains($0) }

    @Test("Names considered in the listing's order: the same batches, in the same order, as the plain list", arguments: [nil, 0, 64, 500, 999])
    func inOrder(sweepAfter: Int?) {
        let considered = Array(zip(Self.listing, Self.aheads))
        let plain = Self.batches(adopting: nil, considered, sweepAfter: sweepAfter)
        let adopted = Self.batches(adopting: Self.listing, considered, sweepAfter: sweepAfter)
        #expect(adopted == plain)
        #expect(plain.map(\.count).reduce(0, +) == Self.aheads.filter { $0 }.count)
        #expect(plain.first?.last == (sweepAfter == nil ? "f999.call" : plain.first?.last))
    }

    @Test("A name out of the listing's order (or not in it) turns the marks into the plain list: still the same batches",
          arguments: [0, 1, 63, 64, 700])
    func outOfOrder(at position: Int) {
        var considered = Array(zip(Self.listing, Self.aheads))
        considered.insert(("stranger.call", true), at: position)
        let plain = Self.batches(adopting: nil, considered)
        #expect(Self.batches(adopting: Self.listing, considered) == plain)
        var skipped = Array(zip(Self.listing, Self.aheads))
        skipped.remove(at: position)
        #expect(Self.batches(adopting: Self.listing, skipped) == Self.batches(adopting: nil, skipped))
    }

    @Test("Nothing ahead: the adopted listing is let go at once")
    func nothingAhead() {
        var sweep = StartupSweep()
        sweep.adopt(Self.listing)
        for name in Self.listing { sweep.consider(name, StartupSweepTests.info(Self.now), now: Self.now) }
        sweep.listingDone()
        #expect(sweep.isEmpty && sweep.nextBatch { $0 } == nil)
    }
}
