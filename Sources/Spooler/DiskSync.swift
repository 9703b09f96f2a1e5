#if canImport(Glibc)
import Glibc
#endif

/// The `fsync` setting (contract §5): whether spool writes are forced to disk before spoold goes on.
///
/// Off (the default, as in Asterisk), every record still reaches the file with a completed `write(2)`
/// before the step it records, which is all a killed spoold needs; only a power loss or kernel crash can
/// then lose the last records. On, `SpoolDirectory` syncs the file after each record it writes (StartRetry,
/// EndRetry, AbortRetry, the Status line, a rewritten file before its rename, a taken-back StartRetry) and
/// the directory after each rename (both directories when the rename crosses them), so what a record or
/// a move says has happened survives a power loss too.
public struct DiskSync: Sendable {
    /// What is being synced, for the log of a failed sync and for tests that count the calls.
    public enum Target: Sendable, Equatable, CustomStringConvertible {
        /// A file (by name) in the directory at this path.
        case file(String, in: String)
        /// The directory at this path (its entries: the result of a rename).
        case directory(String)

        public var description: String {
            switch self {
            case .file(let name, let directory): return "\(directory)/\(name)"
            case .directory(let path): return path + "/"
            }
        }
    }

    /// Whether the setting is on.
    public let isEnabled: Bool
    /// Syncs `fd`, returning 0 or -1 with errno set, like fsync(2); called only when `isEnabled`.
    let perform: @Sendable (_ fd: Int32, _ target: Target) -> Int32
    /// Told of a directory sync that failed after its rename: the rename happened and cannot be taken
    /// back, so it is not an error of the step, but it may not survive a power loss.
    let unsyncedRename: @Sendable (SystemError) -> Void

    /// The setting off: nothing is synced.
    public static let off = DiskSync(enabled: false)

    /// The setting on: fsync(2). `unsyncedRename` hears of a directory that could not be synced after a
    /// rename (for the log).
    public static func on(unsyncedRename: @escaping @Sendable (SystemError) -> Void = { _ in }) -> DiskSync {
        DiskSync(enabled: true, unsyncedRename: unsyncedRename)
    }

    /// `perform` stands for fsync(2) (tests count the calls through it).
    public init(enabled: Bool, perform: @escaping @Sendable (_ fd: Int32, _ target: Target) -> Int32 = { fd, _ in fsync(fd) },
                unsyncedRename: @escaping @Sendable (SystemError) -> Void = { _ in }) {
        self.isEnabled = enabled
        self.perform = perform
        self.unsyncedRename = unsyncedRename
    }

    /// Syncs `fd` when the setting is on. A failed file sync is an error of the step, as a failed write
    /// is: the record may not be on disk, so the caller takes it back out and must not go on as if it were.
    func sync(_ fd: Int32, _ target: @autoclosure () -> Target) throws(SystemError) {
        guard isEnabled else { return }
        var result: Int32
        repeat {
            errno = 0
            result = perform(fd, target())
        } while result != 0 && errno == EINTR
        guard result == 0 else {
            let code = errno == 0 ? EIO : errno
            throw SystemError("fsync \(target())", code)
        }
    }
}
