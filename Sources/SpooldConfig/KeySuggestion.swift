/// "Did you mean …" for a mistyped key: the closest known key by edit distance, when it is close enough
/// that the guess is probably right.
enum KeySuggestion {
    static func closest(to key: String, among known: [String]) -> String? {
        let typed = key.lowercased()
        let dashless = typed.replacingDashes
        if known.contains(dashless) { return dashless }
        let scored = known.map { ($0, distance(typed, $0)) }.min { $0.1 < $1.1 }
        guard let (best, score) = scored else { return nil }
        let allowed = max(1, min(3, best.count / 3))
        return score <= allowed ? best : nil
    }

    /// Levenshtein distance over characters.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

extension String {
    /// Flag spelling (`max-cps`) to key spelling (`max_cps`).
    var replacingDashes: String { String(map { $0 == "-" ? "_" : $0 }) }
}
