import Foundation

/// A spool root with `outgoing/`, plus a staging directory on the same file system so call files can be
/// written elsewhere and renamed in, the way every writer should. The end-to-end tests and the fault tool
/// both run spoold on one.
public final class TemporarySpool: Sendable {
    public let root: String
    /// False keeps the tree after use (`spoold-faults --keep`), for a look at what was left.
    public let removeWhenDone: Bool
    public var outgoing: String { root + "/outgoing" }
    public var done: String { root + "/outgoing_done" }
    /// Outside the spool, same file system: rename from here into `outgoing` is atomic.
    public var staging: String { root + "/staging" }

    /// A fresh root in the temporary directory, or in `parent`.
    public convenience init(in parent: String? = nil, label: String = "e2e", createOutgoing: Bool = true,
                            removeWhenDone: Bool = true) throws {
        let parent = parent ?? FileManager.default.temporaryDirectory.path
        let template = parent + "/spoold-\(label)-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let made = bytes.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw FileSystem.Failure(call: "mkdtemp", path: template, code: errno)
        }
        try self.init(root: String(cString: made), createOutgoing: createOutgoing, removeWhenDone: removeWhenDone)
    }

    /// The spool at `root` (created if needed), e.g. on a file system of its own.
    public init(root: String, createOutgoing: Bool = true, removeWhenDone: Bool = true) throws {
        self.root = root
        self.removeWhenDone = removeWhenDone
        try FileManager.default.createDirectory(atPath: root + "/staging", withIntermediateDirectories: true)
        if createOutgoing {
            try FileManager.default.createDirectory(atPath: root + "/outgoing", withIntermediateDirectories: true)
        }
    }

    deinit {
        guard removeWhenDone else { return }
        // Tests may leave modes that deny removal (chmod 000); undo them first.
        if let walker = FileManager.default.enumerator(atPath: root) {
            for case let relative as String in walker {
                _ = chmod(root + "/" + relative, 0o755)
            }
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    public func outgoingPath(_ name: String) -> String { outgoing + "/" + name }
    public func donePath(_ name: String) -> String { done + "/" + name }

    /// Writes the file in staging, sets its mtime (the due time) and renames it into `outgoing`.
    @discardableResult
    public func submit(_ name: String, _ text: String, due: Double? = nil, mode: mode_t = 0o644) throws -> String {
        try submit(name, bytes: Array(text.utf8), due: due, mode: mode)
    }

    @discardableResult
    public func submit(_ name: String, bytes: [UInt8], due: Double? = nil, mode: mode_t = 0o644) throws -> String {
        let staged = staging + "/" + name
        try FileSystem.write(bytes, to: staged, mode: mode)
        try FileSystem.chmod(staged, mode)
        if let due { try FileSystem.setMtime(staged, to: due) }
        let target = outgoingPath(name)
        try FileSystem.rename(staged, target)
        return target
    }

    /// Names in `outgoing/` (dotfiles included, so tests can see that they stay).
    public func outgoingNames() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: outgoing)) ?? []).sorted()
    }

    /// Names in `outgoing/` that spoold would consider (dotfiles are its own or a writer's staging).
    public func pendingNames() -> [String] {
        outgoingNames().filter { !$0.hasPrefix(".") }
    }

    public func doneNames() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: done)) ?? []).sorted()
    }

    public func isInOutgoing(_ name: String) -> Bool { FileSystem.exists(outgoingPath(name)) }

    public func text(inOutgoing name: String) -> String? {
        FileSystem.read(outgoingPath(name)).map { String(decoding: $0, as: UTF8.self) }
    }
}
