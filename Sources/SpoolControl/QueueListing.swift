import CallFile
import JSONString
import Spooler

/// `spoold queue`'s output: the entries sorted by due time, as aligned text or as JSON.
public enum QueueListing {
    /// By due time (files without one last), then by name.
    public static func sorted(_ entries: [QueueEntry]) -> [QueueEntry] {
        entries.sorted { a, b in
            switch (a.due, b.due) {
            case let (x?, y?) where x != y: x < y
            case (_?, nil): true
            case (nil, _?): false
            default: a.name < b.name
            }
        }
    }

    /// What a state is called in the listing.
    public static func stateText(_ entry: QueueEntry) -> String {
        switch entry.state {
        case .scheduled: "scheduled"
        case .due: "due"
        case .parked: "parked by a limit"
        case .held: "held by a window"
        case .inFlight(let attempt):
            "in flight, attempt \(attempt)" + (entry.summary.map { " of \($0.attemptsAllowed)" } ?? "")
        case .checking: "checking after restart"
        case .finishing: "finishing"
        }
    }

    /// One line per file under a header: name, state, due time (UTC), attempts made of allowed, channel.
    /// `?` where spoold has not read the file yet (it reads a file when it comes due).
    public static func text(_ entries: [QueueEntry]) -> String {
        let states = entries.map(stateText)
        // Widths in bytes, not characters: counting characters walks every name's graphemes.
        let nameWidth = max(4, entries.lazy.map(\.name.utf8.count).max() ?? 0)
        let stateWidth = max(5, states.lazy.map(\.utf8.count).max() ?? 0)
        var out: [UInt8] = []
        out.reserveCapacity((entries.count + 1) * (nameWidth + stateWidth + 64))
        func add(_ text: String, width: Int = 0) {
            out += text.utf8
            let missing = width - text.utf8.count
            if missing > 0 { out += repeatElement(UInt8(ascii: " "), count: missing) }
        }
        add("NAME", width: nameWidth + 2)
        add("STATE", width: stateWidth + 2)
        add("DUE (UTC)", width: 21)
        add("ATTEMPTS", width: 10)
        add("CHANNEL\n")
        for (entry, state) in zip(entries, states) {
            add(entry.name, width: nameWidth + 2)
            add(state, width: stateWidth + 2)
            add(entry.due.map { utc($0) } ?? "-", width: 21)
            add(entry.summary.map { "\($0.attemptsMade) of \($0.attemptsAllowed)" } ?? "?", width: 10)
            add(entry.summary?.channel ?? "?")
            out.append(UInt8(ascii: "\n"))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A JSON array, one object per line: name, state, attempt (in flight), due (epoch seconds, with
    /// fractions) and due_utc, attempts_made, attempts_allowed, channel (null when not read yet).
    public static func json(_ entries: [QueueEntry]) -> String {
        // Built as bytes: with 100,000 files, string interpolation per field costs most of the second.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.count * 220 + 4)
        bytes += "[\n".utf8
        for (index, entry) in entries.enumerated() {
            bytes += #"{"name":"#.utf8
            JSONString.append(entry.name, to: &bytes)
            bytes += #","state":"#.utf8
            switch entry.state {
            case .scheduled: bytes += #""scheduled""#.utf8
            case .due: bytes += #""due""#.utf8
            case .parked: bytes += #""parked""#.utf8
            case .held: bytes += #""held""#.utf8
            case .inFlight(let attempt):
                bytes += #""in_flight","attempt":"#.utf8
                bytes += String(attempt).utf8
            case .checking: bytes += #""checking""#.utf8
            case .finishing: bytes += #""finishing""#.utf8
            }
            if let due = entry.due {
                bytes += #","due":"#.utf8
                bytes += seconds(due).utf8
                bytes += #","due_utc":""#.utf8
                bytes += utc(due, separator: "T").utf8
                bytes += #"Z""#.utf8
            } else {
                bytes += #","due":null,"due_utc":null"#.utf8
            }
            if let summary = entry.summary {
                bytes += #","attempts_made":"#.utf8
                bytes += String(summary.attemptsMade).utf8
                bytes += #","attempts_allowed":"#.utf8
                bytes += String(summary.attemptsAllowed).utf8
                bytes += #","channel":"#.utf8
                JSONString.append(summary.channel, to: &bytes)
            } else {
                bytes += #","attempts_made":null,"attempts_allowed":null,"channel":null"#.utf8
            }
            bytes += (index == entries.count - 1 ? "}\n" : "},\n").utf8
        }
        bytes += "]\n".utf8
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Epoch seconds with milliseconds.
    static func seconds(_ instant: SpoolInstant) -> String {
        let millis = instant.nanoseconds >= 0 ? instant.nanoseconds / 1_000_000 : (instant.nanoseconds - 999_999) / 1_000_000
        let whole = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let fraction = millis - whole * 1000
        return "\(whole)." + String(repeating: "0", count: fraction < 10 ? 2 : fraction < 100 ? 1 : 0) + "\(fraction)"
    }

    /// `2026-12-07 14:05:00`, UTC.
    public static func utc(_ instant: SpoolInstant, separator: String = " ") -> String {
        let (days, inDay) = CivilDate.split(epochSeconds: instant.seconds)
        let date = CivilDate(daysSinceEpoch: days)
        let (year, month, day) = (date.year, date.month, date.day)
        // Digits written straight into bytes: this runs once per file of a listing.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        func digits(_ value: Int64, _ count: Int) {
            var divisor: Int64 = 1
            for _ in 1..<count { divisor *= 10 }
            if value >= divisor * 10 { bytes += String(value / (divisor * 10)).utf8 }
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8((value / divisor) % 10))
                divisor /= 10
            }
        }
        if year < 0 { bytes.append(UInt8(ascii: "-")) }
        digits(abs(year), 4)
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2)
        bytes += separator.utf8
        digits(inDay / 3600, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(inDay / 60 % 60, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(inDay % 60, 2)
        return String(decoding: bytes, as: UTF8.self)
    }
}
