#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a directory's names with opendir/readdir. Never opens, stats or follows an entry, so a FIFO
/// or a symlink in the spool cannot block or redirect the watcher.
enum DirectoryListing {
    struct Result: Sendable, Equatable {
        /// Every name except `.`, `..` and names starting with `.`.
        var names: [String]
        /// Entries whose names are not valid UTF-8: the engine cannot address them, so they are only
        /// counted (and logged by the caller); the files stay where they are.
        var unreadableNames: Int
        /// Names starting with `.` (not `.` and `..`), decoded as they are (invalid UTF-8 repaired), when
        /// asked for: the engine's start-up removes the rewrite temporaries a crash left among them.
        var dotNames: [String] = []
    }

    struct Failure: Error, Equatable {
        var path: String
        var errno: Int32

        var description: String { "cannot list \(path): \(String(cString: strerror(errno)))" }
    }

    static func read(_ path: String, keepingDotNames: Bool = false) throws(Failure) -> Result {
        guard let directory = opendir(path) else { throw Failure(path: path, errno: errno) }
        defer { closedir(directory) }
        var result = Result(names: [], unreadableNames: 0)
        while let entry = readdir(directory) {
            let check = withUnsafeBytes(of: &entry.pointee.d_name) { raw in
                reportableName(raw.prefix { $0 != 0 })
            }
            switch check {
            case .name(let name): result.names.append(name)
            case .notUTF8: result.unreadableNames += 1
            case .hidden:
                guard keepingDotNames else { continue }
                let name = withUnsafeBytes(of: &entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != ".", name != ".." { result.dotNames.append(name) }
            case .none: continue
            }
        }
        return result
    }

    /// The name of a child as the watcher reports it: nil for dot names (ignored by design) and for
    /// names that are not valid UTF-8.
    static func reportableName<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> NameCheck {
        guard let first = bytes.first else { return .none }
        if first == 0x2E { return .hidden }
        // An ASCII name (the usual one) needs no validation: the generic validation costs about 1,000
        // instructions a name, and the watcher makes four names per call file.
        let validated = bytes.withContiguousStorageIfAvailable { buffer -> String? in
            var ascii = true
            for byte in buffer where byte >= 0x80 { ascii = false; break }
            return ascii ? String(decoding: buffer, as: UTF8.self) : String(validating: buffer, as: UTF8.self)
        } ?? String(validating: bytes, as: UTF8.self)
        guard let name = validated else { return .notUTF8 }
        return .name(name)
    }

    enum NameCheck: Equatable {
        case name(String)
        case hidden
        case notUTF8
        case none
    }
}

/// Which directory a path names right now: device and inode, so a re-created directory (same path,
/// new inode) is told apart from the one being watched.
struct DirectoryIdentity: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
    /// The directory's mtime in nanoseconds; only polling compares it.
    var modified: Int64

    /// Follows a symlink for the directory itself (an administrator may link `outgoing` elsewhere);
    /// entries inside are never stat'ed here.
    static func of(_ path: String) -> DirectoryIdentity? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { return nil }
        return DirectoryIdentity(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino),
            modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }

    func isSameDirectory(as other: DirectoryIdentity) -> Bool {
        device == other.device && inode == other.inode
    }
}

/// Spool paths are made absolute and tidied once, so the directory and its parent have stable names.
enum SpoolPath {
    static func absolute(_ path: String) -> String {
        var full = path
        if !full.hasPrefix("/") {
            if let cwd = getcwd(nil, 0) {
                full = String(cString: cwd) + "/" + path
                free(cwd)
            }
        }
        var parts: [Substring] = []
        for part in full.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The parent directory and the directory's name within it; nil for `/`.
    static func split(_ absolute: String) -> (parent: String, name: String)? {
        guard absolute != "/", let slash = absolute.lastIndex(of: "/") else { return nil }
        let parent = slash == absolute.startIndex ? "/" : String(absolute[..<slash])
        return (parent, String(absolute[absolute.index(after: slash)...]))
    }
}
