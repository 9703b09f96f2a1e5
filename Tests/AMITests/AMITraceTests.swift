@testable import AMI
import Testing

@Suite("AMI trace masking")
struct AMITraceTests {
    @Test("Secret and Key values are masked whatever their case; other headers stay as sent")
    func masksSecretAndKey() {
        let login = AMIMessage(["Action": "Login", "Username": "spoold", "secret": "hunter2", "KEY": "0123abcd", "Events": "call"])
        let masked = AMITrace.masked(login)
        #expect(masked["Secret"] == "********")
        #expect(masked["Key"] == "********")
        #expect(masked["Username"] == "spoold")
        #expect(masked.headers.map(\.name) == login.headers.map(\.name))
        let text = AMITrace.text(login, .sent)
        #expect(text == "> Action: Login\n> Username: spoold\n> secret: ********\n> KEY: ********\n> Events: call")
        #expect(!text.contains("hunter2") && !text.contains("0123abcd"))
    }

    @Test("Received messages are marked with <, and headers that merely contain the word are kept")
    func receivedAndLookalikes() {
        let event = AMIMessage(["Event": "VarSet", "Variable": "Secret", "Value": "x", "Keys": "1"])
        #expect(AMITrace.text(event, .received) == "< Event: VarSet\n< Variable: Secret\n< Value: x\n< Keys: 1")
    }
}
