import AMI
import ArgumentParser

/// The flags that say how to reach Asterisk's manager interface, shared by `spoold run` and
/// `spoold originate` so both read them alike.
struct AMIConnectionOptions: ParsableArguments {
    enum Transport: String, ExpressibleByArgument, CaseIterable {
        case tcp, http
    }

    @Option(help: "AMI host (default 127.0.0.1; ami_host).")
    var amiHost: String?

    @Option(help: "AMI port (TCP: 5038, or 5039 with --ami-tls; HTTP: 8088, or 8089 with --ami-tls).")
    var amiPort: Int?

    @Option(help: "AMI user (manager.conf section).")
    var amiUser: String?

    @Option(help: "File holding the AMI secret (the secret itself never goes on the command line).")
    var amiSecretFile: String?

    // Optional, so that `spoold run` can tell a flag given from one left to the configuration file.
    @Flag(inversion: .prefixedNo, help: "Connect to AMI over TLS (ami_tls; default no).")
    var amiTls: Bool?

    @Option(help: "With --ami-tls: PEM file of the CA that signed Asterisk's certificate; the only CA trusted (default: the system's trust store; ami_tls_ca_file).")
    var amiTlsCaFile: String?

    @Option(help: "With --ami-tls: the name Asterisk's certificate must carry, when it is not --ami-host (also sent as SNI; ami_tls_server_name).")
    var amiTlsServerName: String?

    @Flag(inversion: .prefixedNo, help: "With --ami-tls: verify Asterisk's certificate (chain, validity, name; ami_tls_verify; default yes). --no-ami-tls-verify accepts any certificate, an attacker's too: for tests only.")
    var amiTlsVerify: Bool?

    @Flag(inversion: .prefixedNo, help: "Log in with the MD5 challenge (over HTTP: digest authentication on /arawman), so the secret never crosses the wire (ami_md5; default no).")
    var amiMd5: Bool?

    @Option(help: "How AMI is reached: 'tcp' (the manager port) or 'http' (Asterisk's HTTP server, /rawman; only when TCP is not reachable).")
    var amiTransport: Transport?

    @Option(help: "Path of AMI's raw encoding on the HTTP server (with --ami-transport http).")
    var amiHttpPrefix: String?

    func validate() throws {
        if let amiHttpPrefix, !amiHttpPrefix.hasPrefix("/") || amiHttpPrefix.contains(where: { $0 == "?" || $0 == "#" || $0 == " " }) {
            throw ValidationError("--ami-http-prefix must be a path starting with '/', without '?', '#' or spaces")
        }
        if let amiTlsCaFile, !amiTlsCaFile.hasPrefix("/") {
            throw ValidationError("--ami-tls-ca-file must be an absolute path")
        }
        if let amiTlsServerName, amiTlsServerName.isEmpty {
            throw ValidationError("--ami-tls-server-name must not be empty")
        }
    }

    /// The TLS flags given, by name, for a message when TLS is off.
    var tlsSettingFlags: [String] {
        [amiTlsCaFile.map { _ in "--ami-tls-ca-file" }, amiTlsServerName.map { _ in "--ami-tls-server-name" },
         amiTlsVerify.map { $0 ? "--ami-tls-verify" : "--no-ami-tls-verify" }].compactMap { $0 }
    }

    /// Whether the flags needed to log in were given.
    var hasCredentials: Bool { amiUser != nil && amiSecretFile != nil }

    /// The client configuration these flags describe; reads the secret file (without following symlinks).
    func configuration() throws -> AMIConfiguration {
        guard let user = amiUser, let secretFile = amiSecretFile else {
            throw ValidationError("AMI needs --ami-user and --ami-secret-file")
        }
        let secret = try SecretFile.read(secretFile)
        let tls = amiTls ?? false
        if !tls, let flag = tlsSettingFlags.first {
            throw ValidationError("\(flag) needs --ami-tls")
        }
        let transport = amiTransport ?? .tcp
        let defaultPort = switch transport {
        case .tcp: tls ? 5039 : 5038
        case .http: tls ? 8089 : 8088
        }
        var configuration = AMIConfiguration(host: amiHost ?? "127.0.0.1", port: amiPort ?? defaultPort, username: user, secret: secret)
        if transport == .http {
            configuration.transport = .http(AMIConfiguration.HTTP(pathPrefix: amiHttpPrefix ?? "/rawman"))
        }
        configuration.tls = tls
            ? AMIConfiguration.TLS(caFile: amiTlsCaFile, verifyCertificate: amiTlsVerify ?? true, serverName: amiTlsServerName)
            : nil
        configuration.useMD5 = amiMd5 ?? false
        return configuration
    }
}
