import CallFile

/// The Uniqueid spoold gives each attempt's channel. It is recomputable from the file alone (its name
/// and the StartRetry record), so after a crash or restart spoold can ask the PBX whether the attempt
/// that was in flight is still up, without any state outside the file.
public enum ChannelID {
    /// `spoold-<16 hex digits>-<epoch>-<attempt>`, written as bytes (one per attempt, on the engine's loop).
    public static func make(fileName: String, startEpoch: Int64, attempt: Int) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        bytes.append(contentsOf: "spoold-".utf8)
        let hash = fnv1a64(fileName)
        for shift in stride(from: 60, through: 0, by: -4) {
            let digit = UInt8((hash >> UInt64(shift)) & 0xF)
            bytes.append(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
        }
        bytes.append(UInt8(ascii: "-"))
        RetryRecord.appendDecimal(startEpoch, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        RetryRecord.appendDecimal(Int64(attempt), to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// FNV-1a, 64 bit: stable across runs and platforms (unlike `Hasher`), short, good enough to tell
    /// file names apart; the epoch and attempt number make the id unique per attempt.
    static func fnv1a64(_ string: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in string.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
