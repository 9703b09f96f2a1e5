/// One `Variable: name=value` header of an Originate.
public struct AMIVariable: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// An async Originate. The client adds `Action`, `ActionID` and `Async: true`.
public struct OriginateRequest: Sendable, Equatable {
    public var channel: String
    public var application: String?
    public var data: String?
    public var context: String?
    public var exten: String?
    public var priority: Int?
    /// Ring timeout; sent in milliseconds as `Timeout`.
    public var timeout: Duration
    public var callerID: String?
    public var account: String?
    /// One `Variable` header each. Asterisk keeps the first of a repeated name, so callers deduplicate.
    public var variables: [AMIVariable]
    /// The final codec list; nil omits the header (Asterisk then uses `slin`).
    public var codecs: [String]?
    public var earlyMedia: Bool
    /// The Uniqueid Asterisk gives the channel (at most 149 characters). The `Hangup` event is matched
    /// by it, and `channelExists` looks it up.
    public var channelId: String

    public init(
        channel: String,
        application: String? = nil,
        data: String? = nil,
        context: String? = nil,
        exten: String? = nil,
        priority: Int? = nil,
        timeout: Duration = .seconds(30),
        callerID: String? = nil,
        account: String? = nil,
        variables: [AMIVariable] = [],
        codecs: [String]? = nil,
        earlyMedia: Bool = false,
        channelId: String
    ) {
        self.channel = channel
        self.application = application
        self.data = data
        self.context = context
        self.exten = exten
        self.priority = priority
        self.timeout = timeout
        self.callerID = callerID
        self.account = account
        self.variables = variables
        self.codecs = codecs
        self.earlyMedia = earlyMedia
        self.channelId = channelId
    }

    /// Asterisk's limit on an assigned Uniqueid.
    public static let maximumChannelIdLength = 149

    var timeoutMilliseconds: Int64 {
        let (seconds, attoseconds) = timeout.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// The action as sent on the wire. Empty optional fields are omitted, as the contract asks.
    public func message(actionID: String) -> AMIMessage {
        var message = AMIMessage()
        message.headers.reserveCapacity(12 + variables.count)
        message.append("Action", "Originate")
        message.append("ActionID", actionID)
        message.append("Channel", channel)
        if let application, !application.isEmpty { message.append("Application", application) }
        if let data, !data.isEmpty { message.append("Data", data) }
        if let context, !context.isEmpty { message.append("Context", context) }
        if let exten, !exten.isEmpty { message.append("Exten", exten) }
        if let priority { message.append("Priority", String(priority)) }
        message.append("Timeout", String(timeoutMilliseconds))
        if let callerID, !callerID.isEmpty { message.append("CallerID", callerID) }
        if let account, !account.isEmpty { message.append("Account", account) }
        for variable in variables { message.append("Variable", "\(variable.name)=\(variable.value)") }
        if let codecs { message.append("Codecs", codecs.joined(separator: ",")) }
        if earlyMedia { message.append("EarlyMedia", "true") }
        message.append("Async", "true")
        message.append("ChannelId", channelId)
        return message
    }
}
