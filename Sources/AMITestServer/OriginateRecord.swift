import AMI

/// One Originate as the test server received it, kept so fault tests can prove nothing was dialled twice.
public struct OriginateRecord: Sendable, Equatable, Codable {
    public struct Header: Sendable, Equatable, Codable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Order of arrival across all connections, from 1.
    public var sequence: Int
    /// Which connection (from 1, in order of acceptance) sent it.
    public var connection: Int
    public var actionID: String?
    public var channelId: String?
    public var channel: String?
    public var headers: [Header]

    init(sequence: Int, connection: Int, message: AMIMessage) {
        self.sequence = sequence
        self.connection = connection
        self.actionID = message["ActionID"]
        self.channelId = message["ChannelId"]
        self.channel = message["Channel"]
        self.headers = message.headers.map { Header(name: $0.name, value: $0.value) }
    }
}
