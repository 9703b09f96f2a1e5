import Testing
@testable import CallFile

/// Reference §5.1–5.2 and §7: the records in the file, what they count, and the lines spoold appends.
@Suite struct RecordTests {
    @Test("appendDecimal writes what \\(value) writes, after what the array held")
    func decimals() {
        for value: Int64 in [0, 7, 9, 10, 99, 100, 101, 1_000_000, 1_795_348_805, -1, -10, -4096, .max, .min, .max - 1, .min + 1] {
            var bytes = Array("x".utf8)
            RetryRecord.appendDecimal(value, to: &bytes)
            #expect(bytes == Array("x\(value)".utf8), "\(value)")
        }
        #expect(RetryRecord(kind: .start, pid: 4242, number: 3, epoch: 1_795_348_805).bytes
                == Array("\nStartRetry: 4242 3 (1795348805)\n".utf8))
    }

    @Test func recordBytesMatchAsterisk() {
        let record = RetryRecord(kind: .start, pid: 19344, number: 1, epoch: 1_795_364_730)
        #expect(record.bytes == Array("\nStartRetry: 19344 1 (1795364730)\n".utf8))
        #expect(RetryRecord(kind: .end, pid: 2381, number: 1, epoch: 1_795_364_219).bytes
            == Array("\nEndRetry: 2381 1 (1795364219)\n".utf8))
        #expect(RetryRecord(kind: .abort, pid: 7, number: 2, epoch: 5).bytes == Array("\nAbortRetry: 7 2 (5)\n".utf8))
        #expect(RetryRecord(kind: .delayed, pid: 7, number: 0, epoch: 5).bytes == Array("\nDelayedRetry: 7 0 (5)\n".utf8))
        // Every digit, signs and the extremes, as string interpolation writes them.
        for epoch in [0, 9, 10, -1, -10, 1_000_000_007, Int64.max, Int64.min] {
            #expect(RetryRecord(kind: .retry, pid: 0, number: -3, epoch: epoch).bytes == Array("\nRetry: 0 -3 (\(epoch))\n".utf8))
        }
    }

    @Test func statusLineIsAlwaysOnItsOwnLine() {
        #expect(CallStatus.completed.line(afterFileEndingWith: UInt8(ascii: "\n")) == Array("Status: Completed\n".utf8))
        #expect(CallStatus.failed.line(afterFileEndingWith: UInt8(ascii: "t")) == Array("\nStatus: Failed\n".utf8))
        #expect(CallStatus.expired.line(afterFileEndingWith: nil) == Array("Status: Expired\n".utf8))
    }

    /// The archived busy file from the Asterisk 22 transcripts, minus its Status line.
    static let busyArchive = """
        Channel: Local/s@busy
        CallerID: "Spool Test" <2001>
        WaitTime: 10
        MaxRetries: 1
        RetryTime: 2
        Context: target
        Extension: s
        Priority: 1
        Setvar: MYVAR=callfile-busy
        Archive: yes

        StartRetry: 2381 1 (1795364221)

        EndRetry: 2381 1 (1795364219)

        StartRetry: 2381 2 (1795364223)

        """

    @Test func recordsAreReadFromARealArchive() {
        let result = parse(Self.busyArchive)
        #expect(result.diagnostics.isEmpty)
        #expect(result.file.records == [
            RetryRecord(kind: .start, pid: 2381, number: 1, epoch: 1_795_364_221, line: 12),
            RetryRecord(kind: .end, pid: 2381, number: 1, epoch: 1_795_364_219, line: 14),
            RetryRecord(kind: .start, pid: 2381, number: 2, epoch: 1_795_364_223, line: 16),
        ])
        #expect(result.file.finishedAttempts == 1)
        #expect(result.file.inFlightStart?.line == 16)
    }

    @Test func appendedRecordsParseBack() {
        var bytes = Array(minimalApp.utf8)
        let written = [
            RetryRecord(kind: .start, pid: 11, number: 1, epoch: 100),
            RetryRecord(kind: .abort, pid: 12, number: 1, epoch: 90),
            RetryRecord(kind: .delayed, pid: 12, number: 1, epoch: 95),
        ]
        for record in written { bytes += record.bytes }
        let read = parse(bytes: bytes).file.records
        #expect(read.map { RetryRecord(kind: $0.kind, pid: $0.pid, number: $0.number, epoch: $0.epoch) } == written)
    }

    @Test func retryEndAndAbortCountAsFinishedAttempts() {
        let file = parse("Retry: anything\nStartRetry: 1 1 (5)\nEndRetry: 1 1 (6)\nAbortRetry: 2 2 (7)\nDelayedRetry: 2 2 (8)\n").file
        #expect(file.finishedAttempts == 3)
        #expect(file.inFlightStart == nil)
    }

    @Test("A Status line after the last record marks a call finished before its file left outgoing/")
    func statusAfterRecordsMarksFinished() {
        let result = parse("Channel: Local/s@x\nApplication: Wait\n\nStartRetry: 9 1 (5)\nStatus: Completed\n")
        #expect(result.file.finishedStatus == .completed)
        #expect(result.file.inFlightStart?.pid == 9, "the record itself is unchanged")
        #expect(result.diagnostics.isEmpty, "spoold's and Asterisk's own mark is not an unknown key")
    }

    @Test("The writer keeps the finish mark: a finished file reads back finished")
    func finishMarkRoundTrips() throws {
        let parsed = parse("Channel: Local/s@x\nApplication: Wait\n\nStartRetry: 9 1 (5)\nStatus: Expired\n").file
        let written = try CallFileWriter.bytes(for: parsed)
        #expect(String(decoding: written, as: UTF8.self).hasSuffix("StartRetry: 9 1 (5)\nStatus: Expired\n"))
        #expect(parse(bytes: written).file.finishedStatus == .expired)
    }

    @Test("A Status line before any record, with an unknown value, or followed by a record marks nothing")
    func statusElsewhereMarksNothing() {
        let before = parse("Status: Completed\nStartRetry: 9 1 (5)\n")
        #expect(before.file.finishedStatus == nil)
        #expect(before.diagnostics.contains { $0.message.contains("Unknown keyword 'Status'") })
        #expect(parse("StartRetry: 9 1 (5)\nStatus: Done\n").file.finishedStatus == nil)
        #expect(parse("StartRetry: 9 1 (5)\nStatus: Expired\nStartRetry: 9 2 (7)\n").file.finishedStatus == nil)
        #expect(parse("StartRetry: 9 1 (5)\nEndRetry: 9 1 (6)\nstatus: Failed\n").file.finishedStatus == .failed)
    }

    @Test func retryDoesNotCloseAnInFlightStart() {
        let file = parse("StartRetry: 9 1 (5)\nRetry: x\n").file
        #expect(file.inFlightStart?.pid == 9)
        #expect(file.finishedAttempts == 1)
    }

    @Test func unparsablePidWarnsAndIsZero() {
        let result = parse("StartRetry: nope\n")
        #expect(result.file.inFlightStart?.pid == 0)
        #expect(result.messages.first == "Unable to retrieve calling PID!")
    }

    @Test func statusIsNotAKey() {
        let result = parse(minimalApp + "Status: Failed\n")
        #expect(result.messages == ["Unknown keyword 'Status' at line 4 of /spool/outgoing/t.call"])
    }
}
