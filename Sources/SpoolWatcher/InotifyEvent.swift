import CInotifyTools

/// The inotify event bits spoold asks for or receives, as a typed set.
struct InotifyMask: OptionSet, Sendable, Hashable {
    let rawValue: UInt32

    static let access = InotifyMask(rawValue: UInt32(IN_ACCESS))
    static let modify = InotifyMask(rawValue: UInt32(IN_MODIFY))
    static let attrib = InotifyMask(rawValue: UInt32(IN_ATTRIB))
    static let closeWrite = InotifyMask(rawValue: UInt32(IN_CLOSE_WRITE))
    static let closeNoWrite = InotifyMask(rawValue: UInt32(IN_CLOSE_NOWRITE))
    static let open = InotifyMask(rawValue: UInt32(IN_OPEN))
    static let movedFrom = InotifyMask(rawValue: UInt32(IN_MOVED_FROM))
    static let movedTo = InotifyMask(rawValue: UInt32(IN_MOVED_TO))
    static let create = InotifyMask(rawValue: UInt32(IN_CREATE))
    static let delete = InotifyMask(rawValue: UInt32(IN_DELETE))
    static let deleteSelf = InotifyMask(rawValue: UInt32(IN_DELETE_SELF))
    static let moveSelf = InotifyMask(rawValue: UInt32(IN_MOVE_SELF))
    static let unmount = InotifyMask(rawValue: UInt32(IN_UNMOUNT))
    static let queueOverflow = InotifyMask(rawValue: UInt32(IN_Q_OVERFLOW))
    static let ignored = InotifyMask(rawValue: UInt32(IN_IGNORED))
    static let onlyDirectory = InotifyMask(rawValue: UInt32(IN_ONLYDIR))
    static let isDirectory = InotifyMask(rawValue: UInt32(IN_ISDIR))

    /// Every event a spool directory or its parent is watched for. One mask for both roles, so a
    /// directory that is one spool and another spool's parent shares a single kernel watch.
    static let directoryWatch: InotifyMask = [
        .create, .open, .closeWrite, .closeNoWrite, .movedTo, .movedFrom, .delete, .attrib,
        .deleteSelf, .moveSelf, .onlyDirectory,
    ]
}

/// One event copied out of libinotifytools' static buffer.
struct InotifyEvent: Sendable, Equatable {
    /// The watch descriptor; -1 for a queue overflow.
    var watch: Int32
    var mask: InotifyMask
    /// The child's name as raw bytes (no NUL); empty for events on the watched object itself.
    var name: [UInt8]

    init(watch: Int32, mask: InotifyMask, name: [UInt8]) {
        self.watch = watch
        self.mask = mask
        self.name = name
    }

    /// Copies the event; the library reuses its buffer on the next call.
    init(copying event: UnsafePointer<inotify_event>) {
        let header = event.pointee
        self.watch = header.wd
        self.mask = InotifyMask(rawValue: header.mask)
        // The name follows the fixed header, NUL-padded to `len` bytes.
        let nameStart = UnsafeRawPointer(event) + MemoryLayout<inotify_event>.size
        let padded = UnsafeBufferPointer(
            start: nameStart.assumingMemoryBound(to: UInt8.self), count: Int(header.len))
        self.name = Array(padded.prefix { $0 != 0 })
    }
}
