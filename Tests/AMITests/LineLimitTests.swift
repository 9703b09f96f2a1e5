import AMI
import AMITestServer
import NIOCore
import Testing

/// AMI's 1024-byte request line (reference §9: `Failed to parse message: line too long`), on both sides:
/// the encoder refuses what Asterisk would refuse and nothing less, and the test server answers an
/// over-long line as Asterisk does.
@Suite("AMI's request line limit")
struct LineLimitTests {
    /// `Variable: ` plus a value making the line `length` bytes with its CRLF.
    static func variable(lineLength length: Int) -> AMIHeader {
        AMIHeader(name: "Variable", value: "V=" + String(repeating: "x", count: length - "Variable: V=".count - 2))
    }

    @Test("The encoder takes a line of exactly 1024 bytes, CRLF included, and refuses 1025")
    func encoderBoundary() throws {
        var buffer = ByteBuffer()
        try AMIMessageWriter.write(AMIMessage(headers: [Self.variable(lineLength: 1024)]), to: &buffer, enforceRequestLimits: true)
        #expect(buffer.readableBytes == 1024 + 2, "the line and the blank line")
        #expect(throws: AMIEncodingError.lineTooLong(header: "Variable", limit: 1024)) {
            var refused = ByteBuffer()
            try AMIMessageWriter.write(AMIMessage(headers: [Self.variable(lineLength: 1025)]), to: &refused, enforceRequestLimits: true)
        }
    }

    @Test("The test server answers an over-long line like Asterisk: the action is not run, the error carries its ActionID, the session goes on")
    func serverRefusesLongLine() async throws {
        let server = try await AMITestServer.start()
        var tooLong = AMIMessage(["Action": "Originate", "ActionID": "long", "Channel": "PJSIP/answer",
                                  "Application": "Playback", "Async": "true"])
        tooLong.headers.append(Self.variable(lineLength: 1025))
        var fits = AMIMessage(["Action": "Originate", "ActionID": "fits", "Channel": "PJSIP/answer",
                               "Application": "Playback", "Async": "true"])
        fits.headers.append(Self.variable(lineLength: 1024))
        var login = TestServerTests.login
        login.append("Events", "off")
        let (_, responses) = try await TestServerTests.exchange(server, [
            login,
            tooLong,
            fits,
            AMIMessage(["Action": "Ping", "ActionID": "p"]),
        ], expecting: 4)
        #expect(responses.map { $0["ActionID"] } == ["l", "long", "fits", "p"])
        #expect(responses.dropFirst().first == AMIMessage(["Response": "Error", "ActionID": "long",
                                                           "Message": "Failed to parse message: line too long"]))
        #expect(responses.dropFirst(2).first?["ActionID"] == "fits")
        #expect(responses.dropFirst(2).first?["Response"] == "Success")
        #expect(responses.last?["Ping"] == "Pong", "the session goes on after the refused action")
        #expect(server.originates.map { $0.actionID } == ["fits"], "the over-long Originate never ran")
        try await server.stop()
    }
}
