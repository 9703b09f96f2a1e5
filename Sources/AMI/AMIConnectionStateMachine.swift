import Crypto

/// The life of one AMI connection, from TCP up to logoff, as a pure value: inputs are what happened
/// (bytes decoded into frames, timers, a close), outputs are what the handler must do. No I/O here, so
/// every path is tested by feeding inputs.
///
/// Only the connection's own actions (Challenge, Login, Filter, keepalive Ping, Logoff) are handled here;
/// once active every other message is handed on with `.deliver`.
public struct AMIConnectionStateMachine: Sendable {
    public enum Timer: Sendable, Equatable {
        /// One step of the login (banner, Challenge, Login, Filter) or the Logoff must finish in time.
        case response
        /// The keepalive Ping must be answered in time.
        case ping
    }

    public enum Action: Sendable, Equatable {
        case write(AMIMessage)
        case startTimer(Timer)
        case cancelTimer(Timer)
        /// Logged in (and filtered): the connection may carry actions now.
        case ready(version: String, serverFilter: Bool)
        /// A response or event for the client's own actions.
        case deliver(AMIMessage)
        /// Close the connection; nil when it ended as intended (logoff).
        case close(AMIConnectionError?)
    }

    public struct Settings: Sendable, Equatable {
        public var username: String
        var secret: String
        public var useMD5: Bool
        public var useServerFilter: Bool

        public init(username: String, secret: AMISecret, useMD5: Bool, useServerFilter: Bool) {
            self.username = username
            self.secret = secret.value
            self.useMD5 = useMD5
            self.useServerFilter = useServerFilter
        }
    }

    enum State: Sendable, Equatable {
        case connecting
        case awaitingBanner
        case challenging(version: String)
        case loggingIn(version: String)
        case filtering(version: String, remaining: Int, accepted: Bool)
        case active(pingOutstanding: Bool)
        case closing
        case closed
    }

    /// The events spoold needs: the result of its Originates and the end of their channels.
    static let serverFilters = ["Event: OriginateResponse", "Event: Hangup"]
    public static let bannerPrefix = "Asterisk Call Manager/"

    private(set) var state: State = .connecting
    private let settings: Settings
    /// ActionIDs of this connection's own actions carry this prefix so they never meet the client's.
    private let idPrefix: String
    private var pingCounter = 0

    public init(settings: Settings, actionIDPrefix: String) {
        self.settings = settings
        self.idPrefix = actionIDPrefix
    }

    public var isActive: Bool {
        if case .active = state { return true }
        return false
    }

    public mutating func connected() -> [Action] {
        guard state == .connecting else { return [] }
        state = .awaitingBanner
        return [.startTimer(.response)]
    }

    public mutating func received(_ frame: AMIFrame) -> [Action] {
        switch (state, frame) {
        case (.awaitingBanner, .banner(let line)):
            guard line.hasPrefix(Self.bannerPrefix) else {
                return close(.notAnAMIServer(String(line.prefix(80))))
            }
            let version = String(line.dropFirst(Self.bannerPrefix.count))
            if settings.useMD5 {
                state = .challenging(version: version)
                return [.write(AMIMessage(["Action": "Challenge", "AuthType": "MD5", "ActionID": id("challenge")])), .startTimer(.response)]
            }
            state = .loggingIn(version: version)
            return [.write(loginMessage(extra: ["Secret": settings.secret])), .startTimer(.response)]

        case (.awaitingBanner, .message):
            return close(.notAnAMIServer("a message before the banner"))

        case (.challenging(let version), .message(let message)) where message["ActionID"] == id("challenge"):
            guard message["Response"] == "Success", let challenge = message["Challenge"] else {
                return close(.authenticationFailed(message["Message"] ?? "challenge refused"))
            }
            state = .loggingIn(version: version)
            let key = Self.md5Key(challenge: challenge, secret: settings.secret)
            return [.write(loginMessage(extra: ["AuthType": "MD5", "Key": key])), .startTimer(.response)]

        case (.loggingIn(let version), .message(let message)) where message["ActionID"] == id("login"):
            guard message["Response"] == "Success" else {
                return close(.authenticationFailed(message["Message"] ?? "login refused"))
            }
            guard settings.useServerFilter else {
                state = .active(pingOutstanding: false)
                return [.cancelTimer(.response), .ready(version: version, serverFilter: false)]
            }
            state = .filtering(version: version, remaining: Self.serverFilters.count, accepted: true)
            var actions: [Action] = Self.serverFilters.enumerated().map { index, filter in
                .write(AMIMessage(["Action": "Filter", "Operation": "Add", "Filter": filter, "ActionID": id("filter-\(index)")]))
            }
            actions.append(.startTimer(.response))
            return actions

        case (.filtering(let version, let remaining, let accepted), .message(let message))
            where message["ActionID"]?.hasPrefix(id("filter-")) == true:
            // A refusal (no `system` permission) is not fatal: the client ignores unwanted events anyway.
            let nowAccepted = accepted && message["Response"] == "Success"
            guard remaining > 1 else {
                state = .active(pingOutstanding: false)
                return [.cancelTimer(.response), .ready(version: version, serverFilter: nowAccepted)]
            }
            state = .filtering(version: version, remaining: remaining - 1, accepted: nowAccepted)
            return []

        case (.active, .message(let message)) where currentPingID != nil && message["ActionID"] == currentPingID:
            state = .active(pingOutstanding: false)
            return [.cancelTimer(.ping)]

        case (.active, .message(let message)):
            return [.deliver(message)]

        case (.closing, .message(let message)):
            if message["Response"] == "Goodbye" { return close(nil) }
            return [.deliver(message)]

        case (.challenging, .message), (.loggingIn, .message), (.filtering, .message):
            // Events (FullyBooted and the like) may arrive during login; none concerns us.
            return []

        case (_, .banner):
            return close(.protocolError("a second banner"))

        case (.connecting, _), (.closed, _):
            return []
        }
    }

    /// Nothing was read for the ping interval: probe the connection.
    public mutating func readIdle() -> [Action] {
        guard case .active(pingOutstanding: false) = state else { return [] }
        state = .active(pingOutstanding: true)
        pingCounter += 1
        return [.write(AMIMessage(["Action": "Ping", "ActionID": id("ping-\(pingCounter)")])), .startTimer(.ping)]
    }

    public mutating func timerFired(_ timer: Timer) -> [Action] {
        switch (state, timer) {
        case (.active(pingOutstanding: true), .ping):
            return close(.keepaliveTimeout)
        case (.awaitingBanner, .response):
            return close(.timeout("no banner from the server"))
        case (.challenging, .response), (.loggingIn, .response):
            return close(.timeout("no answer to the login"))
        case (.filtering(let version, _, _), .response):
            // A server that ignores Filter still works; go on without it.
            state = .active(pingOutstanding: false)
            return [.ready(version: version, serverFilter: false)]
        case (.closing, .response):
            return close(nil)
        default:
            return []
        }
    }

    /// Leave politely: Logoff if logged in, otherwise just close.
    public mutating func logoff() -> [Action] {
        switch state {
        case .active:
            state = .closing
            return [.cancelTimer(.ping), .write(AMIMessage(["Action": "Logoff", "ActionID": id("logoff")])), .startTimer(.response)]
        case .closing, .closed:
            return []
        default:
            return close(nil)
        }
    }

    public mutating func errorCaught(_ error: AMIConnectionError) -> [Action] {
        close(error)
    }

    /// The channel went away; whatever was in flight is over.
    public mutating func channelClosed() {
        state = .closed
    }

    private var currentPingID: String? {
        guard pingCounter > 0 else { return nil }
        return id("ping-\(pingCounter)")
    }

    private func id(_ suffix: String) -> String { "\(idPrefix)\(suffix)" }

    private func loginMessage(extra: KeyValuePairs<String, String>) -> AMIMessage {
        var message = AMIMessage(["Action": "Login", "Username": settings.username])
        for (name, value) in extra { message.append(name, value) }
        // Only the `call` class: OriginateResponse and Hangup are in it, the noisy dialplan events are not.
        message.append("Events", "call")
        message.append("ActionID", id("login"))
        return message
    }

    private mutating func close(_ error: AMIConnectionError?) -> [Action] {
        guard state != .closed else { return [] }
        state = .closed
        return [.cancelTimer(.response), .cancelTimer(.ping), .close(error)]
    }

    /// Lower-case hex MD5 of the challenge followed directly by the secret (reference §9.2).
    public static func md5Key(challenge: String, secret: String) -> String {
        let digest = Insecure.MD5.hash(data: Array((challenge + secret).utf8))
        return digest.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
