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

/// One event as libinotifytools returned it, read in place: `name` points into the library's static
/// buffer and is valid only until the next call into the library, so the event is handled before the
/// next one is read and its name is never kept (a `String` is made of it when it is reported). Copying
/// each event's name into an array of its own cost an allocation per event, five events per call file.
struct InotifyEvent {
    /// The watch descriptor; -1 for a queue overflow.
    var watch: Int32
    var mask: InotifyMask
    /// The child's name as raw bytes (no NUL); empty for events on the watched object itself.
    var name: UnsafeBufferPointer<UInt8>

    init(watch: Int32, mask: InotifyMask, name: UnsafeBufferPointer<UInt8>) {
        self.watch = watch
        self.mask = mask
        self.name = name
    }

    /// The event in the library's buffer; valid until the library's next call.
    init(inPlace event: UnsafePointer<inotify_event>) {
        let header = event.pointee
        self.watch = header.wd
        self.mask = InotifyMask(rawValue: header.mask)
        // The name follows the fixed header, NUL-padded to `len` bytes.
        let nameStart = (UnsafeRawPointer(event) + MemoryLayout<inotify_event>.size).assumingMemoryBound(to: UInt8.self)
        var length = 0
        while length < Int(header.len), nameStart[length] != 0 { length += 1 }
        self.name = UnsafeBufferPointer(start: nameStart, count: length)
    }
}
