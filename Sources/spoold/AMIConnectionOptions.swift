import AMI
import ArgumentParser

/// The flags that say how to reach Asterisk's manager interface, shared by `spoold run` and
/// `spoold originate` so both read them alike.
struct AMIConnectionOptions: ParsableArguments {
    @Option(help: "AMI host.")
    var amiHost = "127.0.0.1"

    @Option(help: "AMI port (5038, or 5039 with --ami-tls).")
    var amiPort: Int?

    @Option(help: "AMI user (manager.conf section).")
    var amiUser: String?

    @Option(help: "File holding the AMI secret (the secret itself never goes on the command line).")
    var amiSecretFile: String?

    @Flag(help: "Connect to AMI over TLS.")
    var amiTls = false

    @Flag(help: "Log in with the MD5 challenge, so the secret never crosses the wire.")
    var amiMd5 = false

    /// Whether the flags needed to log in were given.
    var hasCredentials: Bool { amiUser != nil && amiSecretFile != nil }

    /// The client configuration these flags describe; reads the secret file (without following symlinks).
    func configuration() throws -> AMIConfiguration {
        guard let user = amiUser, let secretFile = amiSecretFile else {
            throw ValidationError("AMI needs --ami-user and --ami-secret-file")
        }
        let secret = try SecretFile.read(secretFile)
        var configuration = AMIConfiguration(
            host: amiHost, port: amiPort ?? (amiTls ? 5039 : 5038), username: user, secret: secret)
        configuration.tls = amiTls ? AMIConfiguration.TLS() : nil
        configuration.useMD5 = amiMd5
        return configuration
    }
}
