/// Where and how to reach Asterisk's manager interface.
public struct AMIConfiguration: Sendable {
    public struct TLS: Sendable, Equatable {
        /// PEM file of the CA (or CAs) to trust; the system trust store when nil.
        public var caFile: String?
        /// Only for test set-ups: turning it off accepts any certificate, including an attacker's.
        public var verifyCertificate: Bool = true
        /// The name to check the certificate against (and send as SNI); `host` when nil.
        public var serverName: String?

        public init(caFile: String? = nil, verifyCertificate: Bool = true, serverName: String? = nil) {
            self.caFile = caFile
            self.verifyCertificate = verifyCertificate
            self.serverName = serverName
        }
    }

    /// How AMI is reached: its own TCP protocol (port 5038), or Asterisk's HTTP server (`/rawman`).
    public enum Transport: Sendable, Equatable {
        case tcp
        case http(HTTP)
    }

    /// AMI over Asterisk's HTTP server (`webenabled = yes` in manager.conf, `http.conf` enabled). TLS is
    /// the `tls` setting, as for TCP. With `useMD5` the client uses HTTP digest on the `a`-prefixed path
    /// (`/arawman`) so the secret never crosses the wire; otherwise `action=login` and the session cookie.
    public struct HTTP: Sendable, Equatable {
        /// The path of the raw-manager encoding, `/rawman` unless a proxy moved it.
        public var pathPrefix: String
        /// Asterisk's `httptimeout` (manager.conf, default 60 s): a session unused this long expires.
        public var httpTimeout: Duration
        /// How long one `WaitEvent` long poll may wait for an event; kept under `httpTimeout`.
        public var waitEventTimeout: Duration

        public init(pathPrefix: String = "/rawman", httpTimeout: Duration = .seconds(60), waitEventTimeout: Duration = .seconds(20)) {
            self.pathPrefix = pathPrefix
            self.httpTimeout = httpTimeout
            self.waitEventTimeout = waitEventTimeout
        }

        /// The path digest authentication is asked on: the last component with an `a` in front.
        public var digestPath: String {
            guard let slash = pathPrefix.lastIndex(of: "/") else { return "a" + pathPrefix }
            return String(pathPrefix[...slash]) + "a" + String(pathPrefix[pathPrefix.index(after: slash)...])
        }
    }

    public var transport: Transport = .tcp
    public var host: String
    public var port: Int
    public var username: String
    public var secret: AMISecret
    public var tls: TLS?
    /// Log in with `Challenge`/MD5 so the secret never crosses the wire.
    public var useMD5: Bool
    /// How long the connection may stay quiet before the client sends a `Ping`.
    public var pingInterval: Duration
    /// How long a `Ping` may stay unanswered before the connection is declared dead.
    public var pingTimeout: Duration
    /// How long any action (other than the later events of an Originate) may wait for its response.
    public var responseTimeout: Duration
    public var connectTimeout: Duration
    public var reconnectInitialDelay: Duration
    public var reconnectMaxDelay: Duration
    /// Added to an Originate's ring timeout before it is given up as `noResponse`.
    public var originateResponseMargin: Duration
    /// Ask the server to send only `OriginateResponse` and `Hangup` events (the `Filter` action).
    /// Needs `system` write permission; when refused the client filters on its side.
    public var useServerFilter: Bool

    public init(host: String, port: Int = 5038, username: String, secret: AMISecret) {
        self.host = host
        self.port = port
        self.username = username
        self.secret = secret
        self.tls = nil
        self.useMD5 = false
        self.pingInterval = .seconds(10)
        self.pingTimeout = .seconds(5)
        self.responseTimeout = .seconds(10)
        self.connectTimeout = .seconds(5)
        self.reconnectInitialDelay = .milliseconds(250)
        self.reconnectMaxDelay = .seconds(30)
        self.originateResponseMargin = .seconds(30)
        self.useServerFilter = true
    }
}
