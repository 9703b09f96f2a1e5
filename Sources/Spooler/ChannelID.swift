/// The Uniqueid spoold gives each attempt's channel. It is recomputable from the file alone (its name
/// and the StartRetry record), so after a crash or restart spoold can ask the PBX whether the attempt
/// that was in flight is still up, without any state outside the file.
public enum ChannelID {
    public static func make(fileName: String, startEpoch: Int64, attempt: Int) -> String {
        "spoold-\(hex(fnv1a64(fileName)))-\(startEpoch)-\(attempt)"
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

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
