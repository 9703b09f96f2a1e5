import CBuildInfo

/// What `spoold --version` and `mkcall --version` print.
public enum BuildInfo {
    /// The one place the version is written. scripts/package reads it from this line (the package's
    /// version, the man pages' footer), so change it here and nowhere else.
    public static let version = "0.9.0"

    /// The commit scripts/package built from (with "-dirty" when the tree had changes), or "unknown" for
    /// a plain `swift build`.
    public static var commit: String { String(cString: spoold_build_commit()) }

    /// One line: `<command> <version> (commit <commit>)`.
    public static func versionLine(command: String) -> String {
        "\(command) \(version) (commit \(commit))"
    }
}
