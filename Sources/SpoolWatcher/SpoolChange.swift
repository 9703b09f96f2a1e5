/// What the watcher tells the engine about one name in the spool directory.
///
/// Names are bare file names (no path). Names starting with `.` are never reported, so writers can
/// stage files inside the directory. The watcher does not look at what a name is (regular file, FIFO,
/// directory): the engine `lstat`s every name it is given.
public enum SpoolChange: Sendable, Equatable {
    /// The name was renamed in, closed after being written, or linked in (after a 2 s grace).
    case appeared(String)
    /// The file's metadata or content changed (touched, rewritten): re-read its mtime.
    case changed(String)
    /// The name was deleted or renamed away: forget it.
    case removed(String)
    /// A complete listing of the directory. Names the engine knows but that are not listed are gone.
    case rescan([String], reason: RescanReason)
}

/// Why a complete listing was sent instead of single changes.
public enum RescanReason: String, Sendable {
    /// The listing taken when watching starts.
    case initial
    /// The kernel's event queue overflowed, so single changes were lost.
    case overflow
    /// The directory was deleted, renamed or re-created; an empty listing means it is gone for now.
    case directoryRecreated
    /// Polling mode: the periodic listing.
    case poll
}
