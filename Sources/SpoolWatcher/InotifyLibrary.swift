import CInotifyTools

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The only code that calls libinotifytools. The library keeps process-global state (one inotify
/// instance, a watch table, a static event buffer), so exactly one thread — `InotifyHub`'s — may use
/// this type; it is deliberately not Sendable.
final class InotifyLibrary {
    struct Failure: Error, Equatable, CustomStringConvertible {
        var operation: String
        var errno: Int32

        var description: String { "\(operation): \(String(cString: strerror(errno)))" }
    }

    /// Names given to stale entries of the library's filename table; see `addWatch`.
    private var retiredNames = 0

    init() throws(Failure) {
        guard inotifytools_initialize() == 1 else {
            throw Failure(operation: "inotify initialisation", errno: Int32(inotifytools_error()))
        }
    }

    /// Adds (or re-arms) a watch and returns its descriptor. The kernel returns the existing
    /// descriptor when the inode is already watched.
    func addWatch(_ path: String, mask: InotifyMask) throws(Failure) -> Int32 {
        // The library records each watch under the path it was given (directories with a trailing
        // "/") and never forgets an entry whose watch the kernel dropped (a deleted directory). A
        // later watch of the same path would then resolve to the dead descriptor, so any entry
        // already under that path is renamed out of the way first.
        let spellings = path.hasSuffix("/") ? [path] : [path + "/", path]
        for spelling in spellings where inotifytools_wd_from_filename(spelling) >= 0 {
            retiredNames += 1
            inotifytools_replace_filename(spelling, "\u{1}retired-\(retiredNames)/")
        }
        guard inotifytools_watch_file(path, Int32(bitPattern: mask.rawValue)) == 1 else {
            throw Failure(operation: "watching \(path)", errno: Int32(inotifytools_error()))
        }
        for spelling in spellings {
            let watch = inotifytools_wd_from_filename(spelling)
            if watch >= 0 { return watch }
        }
        throw Failure(operation: "watching \(path) (no descriptor recorded)", errno: ENOENT)
    }

    /// Removes a watch the kernel still holds. Not for watches the kernel already dropped
    /// (`IN_IGNORED`): removing those fails and the library prints to stderr.
    func removeWatch(_ watch: Int32) {
        _ = inotifytools_remove_watch_by_wd(watch)
    }

    enum Next {
        /// Valid until the next call (see `InotifyEvent`).
        case event(InotifyEvent)
        case timedOut
        case failed(Int32)
    }

    /// Waits up to `timeoutSeconds` for the next event: 0 returns at once, a negative value waits
    /// without limit. The library counts the timeout in whole seconds.
    func next(timeoutSeconds: Int) -> Next {
        guard let event = inotifytools_next_events(timeoutSeconds, 1) else {
            let error = Int32(inotifytools_error())
            return error == 0 ? .timedOut : .failed(error)
        }
        return .event(InotifyEvent(inPlace: event))
    }
}
