#if canImport(Glibc)
import Glibc
#endif
import EngineTestSupport
import Testing
@testable import Spooler

/// `StartupLookup`: the start-up listing's lstats made on two threads come out as one thread made them.
@Suite("Start-up lstats on two threads")
struct StartupLookupTests {
    /// A listing of `batches` full batches and a partial one: every 5th name a file (its own mtime), a dot name
    /// now and then (never looked at, though it exists), the rest names with no file.
    static func spool(batches: Int) throws -> (EngineHarness, SpoolDirectory, [String]) {
        let harness = try EngineHarness()
        let directory = try SpoolDirectory(path: harness.outgoing, create: true)
        let names = (0..<(batches * StartupLookup.batchSize + 7)).map { $0 % 97 == 0 ? ".d\($0)" : "n\($0).call" }
        for (index, name) in names.enumerated() where index % 5 == 0 || name.hasPrefix(".") {
            try harness.submit(name, "Channel: Sim/answer\n", mtime: EngineHarness.t0.adding(seconds: index), announce: false)
        }
        return (harness, directory, names)
    }

    @Test("Each batch holds the names in the listing's order with their own lstat, dot names with none", arguments: [0, 1, 2, 6])
    func batches(full: Int) throws {
        let (harness, directory, names) = try Self.spool(batches: full)
        let lookup = StartupLookup(names: names, in: directory)
        #expect(lookup.batchCount == full + 1)
        var got: [(String, EntryInfo?)] = []
        for index in 0..<lookup.batchCount {
            let batch = lookup.batch(index)
            #expect(batch.count == (index < full ? StartupLookup.batchSize : 7))
            got += batch
        }
        // The first name out of place, or with another lstat than its own (nil: none).
        let wrong = got.indices.first { index in
            let (name, info) = got[index]
            guard index < names.count, name == names[index] else { return true }
            if name.hasPrefix(".") { return info != nil }
            if index % 5 == 0, info?.mtime != EngineHarness.t0.adding(seconds: index) { return true }
            return info != directory.info(name)
        }
        #expect(got.count == names.count)
        #expect(wrong == nil, "first wrong: \(wrong.map { "\(got[$0].0) at \($0)" } ?? "")")
        _ = harness
    }

    @Test("Abandoned after a few batches, the helper ends (no hang), and the batches taken were right")
    func abandoned() throws {
        let (harness, directory, names) = try Self.spool(batches: 8)
        let lookup = StartupLookup(names: names, in: directory)
        let first = lookup.batch(0)
        #expect(first.map(\.0) == Array(names.prefix(StartupLookup.batchSize)))
        lookup.abandon()
        _ = harness
    }
}
