import AMI
import Spooler

/// Whether an Asterisk runs its own call-file spool (`pbx_spool`), asked with AMI `ModuleCheck` at each
/// login. If it does and shares the spool directory with spoold, both would dial the same files.
public enum SpoolModuleState: Sendable, Equatable, CustomStringConvertible {
    case loaded
    case notLoaded
    /// Asterisk would not say (most often `Permission denied`: ModuleCheck needs `system` write permission).
    case unknown(String)

    /// `Action: ModuleCheck` with `Module: pbx_spool`: the module name without `.so`, as Asterisk asks.
    static let request = AMIMessage(["Action": "ModuleCheck", "Module": "pbx_spool"])

    /// Asterisk answers `Response: Success` (with an empty `Version` header) when the module is loaded,
    /// and `Response: Error` / `Message: Module not loaded` when not; any other error leaves it unknown.
    init(response: AMIMessage) {
        switch response["Response"]?.lowercased() {
        case "success":
            self = .loaded
        case "error" where response["Message"] == "Module not loaded":
            self = .notLoaded
        default:
            self = .unknown(response["Message"] ?? "Response: \(response["Response"] ?? "none")")
        }
    }

    public var description: String {
        switch self {
        case .loaded: return "loaded"
        case .notLoaded: return "not loaded"
        case .unknown(let why): return "unknown (\(why))"
        }
    }

    /// The log line for an administrator, or nil when there is nothing to say.
    func advice(server: String, address: String) -> (warning: Bool, text: String)? {
        switch self {
        case .loaded:
            return (true, "AMI server \(server) (\(address)): Asterisk's own call-file spool (pbx_spool) is loaded there; if it shares the spool directory with spoold, both dial the same call files. Add `noload => pbx_spool.so` to that Asterisk's modules.conf and restart it")
        case .notLoaded:
            return nil
        case .unknown(let why):
            return (false, "AMI server \(server) (\(address)): cannot tell whether Asterisk's own call-file spool (pbx_spool) is loaded (ModuleCheck: \(why)); if that Asterisk shares the spool directory with spoold, make sure its modules.conf has `noload => pbx_spool.so`")
        }
    }
}
