@testable import AMI
import ByteText
import NIOCore
import Testing

/// The pure parts of AMI over HTTP: query strings, `/rawman` bodies, the session cookie, digest.
@Suite("AMI over HTTP: codec and digest")
struct AMIHTTPCodecTests {
    @Test("RFC 2617's own example gives its response value")
    func digestRFCExample() {
        let response = HTTPDigest.response(
            username: "Mufasa", password: "Circle Of Life", realm: "testrealm@host.com",
            nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", method: "GET", uri: "/dir/index.html",
            nc: "00000001", cnonce: "0a4f113b", qop: "auth")
        #expect(response == "6629fae49393a05397450978507c4ef1")
    }

    @Test("Asterisk's challenge from the seeds is read, and the Authorization answers it")
    func challengeAndAuthorization() throws {
        let challenge = try #require(HTTPDigest.Challenge(
            header: "Digest algorithm=MD5, realm=\"asterisk\", nonce=\"55b30b6d\", qop=\"auth\", opaque=\"55b30b6d\""))
        #expect(challenge == HTTPDigest.Challenge(realm: "asterisk", nonce: "55b30b6d", opaque: "55b30b6d", qop: ["auth"], algorithm: "MD5"))
        #expect(HTTPDigest.Challenge(header: "Basic realm=\"x\"") == nil)
        let header = HTTPDigest.authorization(for: challenge, username: "hello", password: "world", method: "GET",
                                              uri: "/arawman?action=ping", nonceCount: 1, cnonce: "MTQ0MTQ5")
        let fields = HTTPDigest.parameters(Substring(header).dropFirst("Digest ".count))
        #expect(fields["uri"] == "/arawman?action=ping")
        #expect(fields["nc"] == "00000001")
        #expect(fields["qop"] == "auth")
        #expect(fields["opaque"] == "55b30b6d")
        #expect(fields["response"] == HTTPDigest.response(username: "hello", password: "world", realm: "asterisk", nonce: "55b30b6d",
                                                          method: "GET", uri: "/arawman?action=ping", nc: "00000001", cnonce: "MTQ0MTQ5", qop: "auth"))
        #expect(!header.contains("world"))
    }

    @Test("A quoted parameter may hold commas and escaped quotes")
    func quotedParameters() {
        let fields = HTTPDigest.parameters("realm=\"a, b \\\"c\\\"\", nonce=abc , qop=\"auth,auth-int\"")
        #expect(fields == ["realm": "a, b \"c\"", "nonce": "abc", "qop": "auth,auth-int"])
    }

    @Test("/rawman bodies: the transcript's Ping reply, several messages, a last one without its blank line")
    func rawmanBodies() throws {
        let ping = try AMIHTTPCodec.messages(inRawmanBody: ByteBuffer(string: "Response: Success\r\nPing: Pong\r\nTimestamp: 1795364193.282559\r\n\r\n"))
        #expect(ping == [AMIMessage(["Response": "Success", "Ping": "Pong", "Timestamp": "1795364193.282559"])])
        let wait = try AMIHTTPCodec.messages(inRawmanBody: ByteBuffer(string:
            "Response: Success\r\nMessage: Waiting for Event completed.\r\n\r\nEvent: Hangup\r\nUniqueid: u1\r\n\r\nEvent: WaitEventComplete"))
        #expect(wait.map { $0["Event"] ?? $0["Response"] ?? "" } == ["Success", "Hangup", "WaitEventComplete"])
        #expect(try AMIHTTPCodec.messages(inRawmanBody: ByteBuffer()).isEmpty)
    }

    @Test("The session id comes from Asterisk's Set-Cookie, quotes removed; other cookies are ignored")
    func sessionCookie() {
        #expect(AMIHTTPCodec.sessionID(fromSetCookie: "mansession_id=\"852199c2\"; Version=1; Max-Age=60") == "852199c2")
        #expect(AMIHTTPCodec.sessionID(fromSetCookie: "mansession_id=0e929e60") == "0e929e60")
        #expect(AMIHTTPCodec.sessionID(fromSetCookie: "other=1; mansession_id=x") == nil)
        #expect(AMIHTTPCodec.cookieHeader(sessionID: "852199c2") == "mansession_id=\"852199c2\"")
    }

    @Test("Actions become percent-encoded parameters in order, repeats kept, and decode back")
    func queryEncoding() throws {
        let message = AMIMessage(headers: [
            AMIHeader(name: "Action", value: "Originate"), AMIHeader(name: "Data", value: "a b&c=d/é"),
            AMIHeader(name: "Variable", value: "X=1"), AMIHeader(name: "Variable", value: "Y=2,3"),
        ])
        let query = try AMIHTTPCodec.query(for: message)
        #expect(query == "Action=Originate&Data=a%20b%26c%3Dd%2F%C3%A9&Variable=X%3D1&Variable=Y%3D2%2C3")
        #expect(AMIHTTPCodec.parameters(ofQuery: Substring(query)) == message.headers)
        #expect(AMIHTTPCodec.parameters(ofQuery: "a=b+c&d&e=%zz") == [
            AMIHeader(name: "a", value: "b c"), AMIHeader(name: "d", value: ""), AMIHeader(name: "e", value: "%zz"),
        ])
    }

    @Test("A value's bytes that are not UTF-8 go into the query as those bytes, and decode back to the same value")
    func bytesThatAreNotUTF8() throws {
        // Latin-1 "café" and a lone continuation byte: not UTF-8, kept as bytes (contract §5).
        let value = ByteText.decode([0x63, 0x61, 0x66, 0xE9, 0x20, 0x80])
        let message = AMIMessage(headers: [AMIHeader(name: "Action", value: "Originate"), AMIHeader(name: "Data", value: value)])
        let query = try AMIHTTPCodec.query(for: message)
        #expect(query == "Action=Originate&Data=caf%E9%20%80")
        let decoded = AMIHTTPCodec.parameters(ofQuery: Substring(query))
        #expect(decoded == message.headers)
        #expect(ByteText.bytes(decoded[1].value) == [0x63, 0x61, 0x66, 0xE9, 0x20, 0x80])
    }

    @Test("CR, LF or NUL in a value or name is refused, as on TCP", arguments: ["a\rb", "a\nb", "a\u{0}b"])
    func controlCharactersRefused(_ value: String) {
        #expect(throws: AMIEncodingError.forbiddenCharacter(header: "Data")) {
            try AMIHTTPCodec.query(for: AMIMessage(["Action": "Originate", "Data": value]))
        }
        #expect(throws: AMIEncodingError.self) {
            try AMIHTTPCodec.query(for: AMIMessage(headers: [AMIHeader(name: value, value: "x")]))
        }
    }

    @Test("Digest goes to the a-prefixed path of the configured prefix")
    func digestPath() {
        #expect(AMIConfiguration.HTTP().digestPath == "/arawman")
        #expect(AMIConfiguration.HTTP(pathPrefix: "/asterisk/rawman").digestPath == "/asterisk/arawman")
    }
}

@Suite("Originate tracker: an OriginateResponse that overtakes the action's reply")
struct TrackerOvertakingTests {
    @Test("Over HTTP the event can come first: queued is still reported before the result", arguments: ["Success", "Failure"])
    func eventBeforeResponse(_ response: String) {
        var tracker = OriginateTracker<Int>()
        tracker.sent(actionID: "a1", channelId: "c1", subscriber: 1, responseDeadline: .now() + .seconds(5), resultWindow: .seconds(5))
        let event = AMIMessage(["Event": "OriginateResponse", "ActionID": "a1", "Response": response, "Channel": "PJSIP/x",
                                "Reason": response == "Success" ? "4" : "5", "Uniqueid": "c1"])
        let stages = tracker.originateResponse(event, actionID: "a1").map(\.stage)
        #expect(stages.first == .queued)
        #expect(stages.count == 2)
        // The action's own reply, arriving afterwards, changes nothing.
        #expect(tracker.response(AMIMessage(["Response": "Success", "ActionID": "a1"]), actionID: "a1", now: .now()) == nil)
    }
}
