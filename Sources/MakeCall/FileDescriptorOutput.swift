#if canImport(Glibc)
import Glibc
#endif

enum FileDescriptorOutput {
    /// Writes every byte, retrying short writes and EINTR; false on any other error (errno is kept).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }
}
