#if canImport(Glibc)
import Glibc
#endif

/// This machine's name as gethostname(2) gives it: what spoold writes into the spool lock.
func thisHostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
    return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
