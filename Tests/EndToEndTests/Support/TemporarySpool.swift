import Foundation

/// A spool root in /tmp with `outgoing/`, plus a staging directory on the same file system so call files
/// can be written elsewhere and renamed in, the way every writer should.
final class TemporarySpool: Sendable {
    let root: String
    var outgoing: String { root + "/outgoing" }
    var done: String { root + "/outgoing_done" }
    /// Outside the spool, same file system: rename from here into `outgoing` is atomic.
    var staging: String { root + "/staging" }

    init(createOutgoing: Bool = true) throws {
        let template = FileManager.default.temporaryDirectory.appendingPathComponent("spoold-e2e-XXXXXX").path
        var bytes = Array(template.utf8CString)
        guard let made = bytes.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw FileSystem.Failure(call: "mkdtemp", path: template, code: errno)
        }
        root = String(cString: made)
        try FileManager.default.createDirectory(atPath: root + "/staging", withIntermediateDirectories: true)
        if createOutgoing {
            try FileManager.default.createDirectory(atPath: root + "/outgoing", withIntermediateDirectories: true)
        }
    }

    deinit {
        // Tests may leave modes that deny removal (chmod 000); undo them first.
        if let walker = FileManager.default.enumerator(atPath: root) {
            for case let relative as String in walker {
                _ = chmod(root + "/" + relative, 0o755)
            }
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    func outgoingPath(_ name: String) -> String { outgoing + "/" + name }
    func donePath(_ name: String) -> String { done + "/" + name }

    /// Writes the file in staging, sets its mtime (the due time) and renames it into `outgoing`.
    @discardableResult
    func submit(_ name: String, _ text: String, due: Double? = nil, mode: mode_t = 0o644) throws -> String {
        try submit(name, bytes: Array(text.utf8), due: due, mode: mode)
    }

    @discardableResult
    func submit(_ name: String, bytes: [UInt8], due: Double? = nil, mode: mode_t = 0o644) throws -> String {
        let staged = staging + "/" + name
        try FileSystem.write(bytes, to: staged, mode: mode)
        try FileSystem.chmod(staged, mode)
        if let due { try FileSystem.setMtime(staged, to: due) }
        let target = outgoingPath(name)
        try FileSystem.rename(staged, target)
        return target
    }

    /// Names in `outgoing/` (dotfiles included, so tests can see that they stay).
    func outgoingNames() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: outgoing)) ?? []).sorted()
    }

    func doneNames() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: done)) ?? []).sorted()
    }

    /// The archived file, once it carries its Status line.
    func archived(_ name: String) -> ArchivedCallFile? {
        guard let bytes = FileSystem.read(donePath(name)) else { return nil }
        let file = ArchivedCallFile(bytes: bytes)
        return file.status == nil ? nil : file
    }

    func isInOutgoing(_ name: String) -> Bool { FileSystem.exists(outgoingPath(name)) }

    func text(inOutgoing name: String) -> String? {
        FileSystem.read(outgoingPath(name)).map { String(decoding: $0, as: UTF8.self) }
    }
}
