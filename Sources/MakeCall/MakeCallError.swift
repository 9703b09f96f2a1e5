/// A refused flag value or a failed step, always naming the flag the user can change.
public struct MakeCallError: Error, Equatable, CustomStringConvertible {
    /// The flag at fault, e.g. `--data`.
    public var flag: String
    public var reason: String

    public init(flag: String, reason: String) {
        self.flag = flag
        self.reason = reason
    }

    public var description: String { "\(flag): \(reason)" }
}
