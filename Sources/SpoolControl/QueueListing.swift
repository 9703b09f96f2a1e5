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
        var bytes: [UInt8] = Array("[\n".utf8)
        for (index, entry) in entries.enumerated() {
            var object = "{\"name\":" + JSONString.quoted(entry.name) + ",\"state\":"
            switch entry.state {
            case .scheduled: object += "\"scheduled\""
            case .due: object += "\"due\""
            case .parked: object += "\"parked\""
            case .inFlight(let attempt): object += "\"in_flight\",\"attempt\":\(attempt)"
            case .checking: object += "\"checking\""
            case .finishing: object += "\"finishing\""
            }
            if let due = entry.due {
                object += ",\"due\":\(seconds(due)),\"due_utc\":\"\(utc(due, separator: "T"))Z\""
            } else {
                object += ",\"due\":null,\"due_utc\":null"
            }
            if let summary = entry.summary {
                object += ",\"attempts_made\":\(summary.attemptsMade),\"attempts_allowed\":\(summary.attemptsAllowed),\"channel\":"
                    + JSONString.quoted(summary.channel)
            } else {
                object += ",\"attempts_made\":null,\"attempts_allowed\":null,\"channel\":null"
            }
            object += index == entries.count - 1 ? "}\n" : "},\n"
            bytes += object.utf8
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
        let seconds = instant.seconds
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let inDay = seconds - days * 86_400
        // Days since 1970-01-01 to a civil date (proleptic Gregorian), by 400-year eras.
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day))\(separator)\(two(inDay / 3600)):\(two(inDay / 60 % 60)):\(two(inDay % 60))"
    }
}
