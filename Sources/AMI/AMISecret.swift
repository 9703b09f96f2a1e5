/// The AMI password. Wrapped so that string interpolation, `print` and loggers show stars rather
/// than the secret; only the login code reads `value`.
public struct AMISecret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let value: String

    public init(_ value: String) {
        self.value = value
    }

    public var description: String { "********" }
    public var debugDescription: String { "AMISecret(********)" }
}
