import Foundation

/// Where the executables under test live.
///
/// SwiftPM puts the test bundle and the package's executables in the same build directory, and the
/// scratch path is shared between worktrees, so the directory is found from the running test binary
/// rather than from a fixed path.
public enum BuiltProducts {
    public static let directory: URL = {
        var candidate = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        // Walk up until a directory holds a `spoold` executable (the test binary may sit inside a bundle).
        for _ in 0..<6 {
            if FileManager.default.isExecutableFile(atPath: candidate.appendingPathComponent("spoold").path) {
                return candidate
            }
            candidate.deleteLastPathComponent()
        }
        // Last resort for unusual runners: the package's own debug directory.
        var packageRoot = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { packageRoot.deleteLastPathComponent() }
        return packageRoot.appendingPathComponent(".build/debug")
    }()

    public static var spoold: URL { directory.appendingPathComponent("spoold") }
    public static var mkcall: URL { directory.appendingPathComponent("mkcall") }
}
