/// How AMI traffic is shown when tracing (`spoold originate --debug`, `--log-level trace`): each message
/// as its `Name: value` lines, with anything that could give the secret away masked. Pure, so the
/// masking is tested without a connection.
public enum AMITrace {
    public enum Direction: Sendable {
        case sent
        case received
    }

    /// What a masked value reads as: the same as `AMISecret`'s description.
    public static let mask = "********"

    /// `Secret` is the password itself; `Key` is the MD5 of the challenge and the password, which would
    /// allow an offline guess at it, so both are masked. Names compare case-insensitively as Asterisk does.
    static let maskedHeaders = ["Secret", "Key"]

    public static func masked(_ message: AMIMessage) -> AMIMessage {
        var copy = message
        for index in copy.headers.indices where maskedHeaders.contains(where: { copy.headers[index].name.amiNameEquals($0) }) {
            copy.headers[index].value = mask
        }
        return copy
    }

    /// One masked message, one line per header, each marked with the direction (`>` sent, `<` received).
    public static func text(_ message: AMIMessage, _ direction: Direction) -> String {
        let marker = direction == .sent ? "> " : "< "
        return masked(message).headers.map { marker + $0.name + ": " + $0.value }.joined(separator: "\n")
    }
}
