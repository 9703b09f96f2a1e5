import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// Where and when the call file lands: the spool, its name, owner and mode, and its due time.
public struct SpoolOptions: ParsableArguments {
    public static let defaultSpoolDirectory = "/var/spool/asterisk"

    @Option(help: "Due time: ISO 8601 with a zone (2026-11-23T07:30:00Z) or epoch seconds. Sets the file's mtime.")
    public var at: String?

    @Option(name: .customLong("in"), help: "Due after this long: 90s, 5m, 2h, 1d or 1h30m. Sets the file's mtime.")
    public var delay: String?

    @Option(
        name: .customLong("spool-dir"),
        help: "Asterisk spool root; the file lands in <spool-dir>/outgoing. (default: \(defaultSpoolDirectory))")
    public var spoolDirectory: String?

    @Option(help: "File name inside outgoing/. (default: mkcall-<UTC time>-<pid>-<random>.call)")
    public var name: String?

    @Option(help: "Owner of the file as USER[:GROUP], names or numeric ids (needs the right to chown).")
    public var owner: String?

    @Option(help: "Permission bits of the file in octal, e.g. 0660.")
    public var mode: String?

    @Flag(help: "Write the call file to standard output instead of the spool.")
    public var print = false

    public init() {}

    public func validate() throws {
        try checkCombinations()
        _ = try dueTime(now: 0)
        _ = try resolvedOwner()
        _ = try resolvedMode()
        if let name { try Self.checkName(name) }
    }

    public var effectiveSpoolDirectory: String { spoolDirectory ?? Self.defaultSpoolDirectory }

    /// The mtime to give the file, or nil to leave it at "now" (due at once).
    public func dueTime(now: Int64) throws(MakeCallError) -> Int64? {
        if let at { return try TimeSpec.epoch(fromAt: at) }
        if let delay { return now + (try TimeSpec.seconds(fromIn: delay)) }
        return nil
    }

    /// `--owner` as ids; a missing group keeps the file's group.
    public func resolvedOwner() throws(MakeCallError) -> SpoolWriter.Owner? {
        guard let owner else { return nil }
        let parts = owner.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let userText = parts.first, !userText.isEmpty else {
            throw MakeCallError(flag: "--owner", reason: "'\(owner)' names no user; write USER or USER:GROUP")
        }
        guard let user = UserDatabase.userID(userText) else {
            throw MakeCallError(flag: "--owner", reason: "no such user '\(userText)'")
        }
        var group: UInt32?
        if parts.count == 2 {
            guard !parts[1].isEmpty, let id = UserDatabase.groupID(parts[1]) else {
                throw MakeCallError(flag: "--owner", reason: "no such group '\(parts[1])'")
            }
            group = id
        }
        return SpoolWriter.Owner(user: user, group: group)
    }

    /// `--mode` as permission bits.
    public func resolvedMode() throws(MakeCallError) -> UInt32? {
        guard let mode else { return nil }
        guard !mode.isEmpty, mode.utf8.count <= 5, let bits = UInt32(mode, radix: 8), bits <= 0o7777 else {
            throw MakeCallError(flag: "--mode", reason: "'\(mode)' is not an octal mode like 0640")
        }
        return bits
    }

    private func checkCombinations() throws(MakeCallError) {
        if at != nil, delay != nil {
            throw MakeCallError(flag: "--at", reason: "cannot be combined with --in; give one due time")
        }
        guard print else { return }
        let placementFlags = [
            at.map { _ in "--at" }, delay.map { _ in "--in" }, spoolDirectory.map { _ in "--spool-dir" },
            name.map { _ in "--name" }, owner.map { _ in "--owner" }, mode.map { _ in "--mode" },
        ].compactMap { $0 }
        if let first = placementFlags.first {
            throw MakeCallError(flag: first, reason: "has no effect with --print, which writes to standard output")
        }
    }

    /// A name Asterisk and spoold both pick up, that stays inside outgoing/.
    static func checkName(_ name: String) throws(MakeCallError) {
        if name.isEmpty { throw MakeCallError(flag: "--name", reason: "the name is empty") }
        if name.utf8.contains(UInt8(ascii: "/")) {
            throw MakeCallError(flag: "--name", reason: "'\(name)' contains '/'; give a plain file name")
        }
        if name.hasPrefix(".") {
            throw MakeCallError(flag: "--name", reason: "'\(name)' starts with '.', and spoold ignores such names")
        }
        if name.utf8.contains(where: { $0 < 32 || $0 == 0x7F }) {
            throw MakeCallError(flag: "--name", reason: "the name contains a control character")
        }
        // Asterisk formats outgoing_done/<name> into a 256-byte buffer and silently cuts longer paths.
        if name.utf8.count > 200 {
            throw MakeCallError(flag: "--name", reason: "the name is \(name.utf8.count) bytes; keep it under 200")
        }
    }
}

/// User and group lookups through the C library (names, or numeric ids as they are).
enum UserDatabase {
    static func userID(_ text: String) -> UInt32? {
        if let id = UInt32(text) { return id }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        guard getpwnam_r(text, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.pw_uid
    }

    static func groupID(_ text: String) -> UInt32? {
        if let id = UInt32(text) { return id }
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        guard getgrnam_r(text, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.gr_gid
    }
}
