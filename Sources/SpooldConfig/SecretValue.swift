/// An AMI secret as read from the configuration, a secret file or the environment. Printing it (string
/// interpolation, `print`, a logger, a failed `#expect`) shows stars; only `reveal()` gives the text.
public struct SecretValue: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    private let value: String

    public init(_ value: String) { self.value = value }

    /// For the code that hands the secret to the AMI login, and nothing else.
    public func reveal() -> String { value }

    public var description: String { "********" }
    public var debugDescription: String { "SecretValue(********)" }
}
