import NIOSSL

/// How the test server logs users in and behaves. `Behaviour` can be changed while it runs.
public struct AMITestServerConfiguration: Sendable {
    /// TLS on every connection (AMI over TLS, port 5039; HTTPS, port 8089); nil: plain.
    public var tls: TLSConfiguration?
    public var host: String
    /// 0 picks a free port; read it back from `AMITestServer.port`.
    public var port: Int
    public var username: String
    public var secret: String
    /// Asterisk waits about 1 s before `Authentication failed`; tests shorten it.
    public var authenticationFailureDelay: Duration
    public var behaviour: Behaviour

    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        username: String = "spoold",
        secret: String = "secret",
        authenticationFailureDelay: Duration = .seconds(1),
        behaviour: Behaviour = Behaviour()
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.secret = secret
        self.authenticationFailureDelay = authenticationFailureDelay
        self.behaviour = behaviour
        self.tls = nil
    }

    public struct Behaviour: Sendable, Equatable {
        /// Every action gets `Asterisk is shutting down`.
        public var shuttingDown = false
        /// After login the server reads but never answers (a hung Asterisk): keepalives trip.
        public var silentAfterLogin = false
        /// Originates are queued but their OriginateResponse and Hangup never come.
        public var withholdOriginateResults = false
        /// Whether the user may use `Filter` (Asterisk requires `system` write permission).
        public var filterPermitted = true
        /// Whether the user has `originate` write permission.
        public var originatePermitted = true
        /// Whether the user has `system` write permission (needed for blacklisted applications/data).
        public var systemPermitted = false
        /// Close each connection right after it queued this many Originates; the calls go on.
        public var disconnectAfterQueued: Int?
        /// Dial each async Originate but close the connection before answering it: Asterisk got the
        /// request, the client never learns so (its fate is unknown to the client). With
        /// `withholdOriginateResults` nothing is dialled: the request was lost with the connection.
        public var disconnectBeforeOriginateResponse = false
        /// Modules `ModuleCheck` reports as loaded, named without `.so` (for example `pbx_spool`).
        /// Asterisk answers ModuleCheck only with `system` write permission (`systemPermitted`).
        public var loadedModules: Set<String> = []
        /// Delay before each response, as a slow Asterisk would.
        public var responseDelay: Duration = .zero
        /// Keep every Originate in `AMITestServer.originates` (turned off for memory benchmarks).
        public var recordOriginates = true

        public init() {}
    }
}
