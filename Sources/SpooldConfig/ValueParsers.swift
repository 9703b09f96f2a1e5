import Logging

/// Turns a value's text into a typed value, or says what was expected. Each failure message completes
/// "<key>: …" in an error line.
enum ValueParser {
    typealias Parsed<T> = Result<T, Expectation>

    struct Expectation: Error, Equatable {
        var text: String
        init(_ text: String) { self.text = text }
    }

    static func boolean(_ value: String) -> Parsed<Bool> {
        switch value.lowercased() {
        case "yes", "true", "on", "1", "y", "t": .success(true)
        case "no", "false", "off", "0", "n", "f": .success(false)
        default: .failure(Expectation("\(quoted(value)) is not a yes/no value; expected yes or no (also true/false, on/off, 1/0)"))
        }
    }

    /// A whole number in `range`; `meaning` completes "expected …".
    static func integer(_ value: String, in range: ClosedRange<Int>, _ meaning: String) -> Parsed<Int> {
        guard let number = Int(value), range.contains(number) else {
            return .failure(Expectation("\(quoted(value)) is not valid; expected \(meaning)"))
        }
        return .success(number)
    }

    static func limit(_ value: String) -> Parsed<Int> {
        integer(value, in: 0...Int(Int32.max), "a whole number of calls, 0 (no limit) or more")
    }

    static func rate(_ value: String) -> Parsed<Double> {
        // Double("inf"), Double("nan") and hex forms parse in Swift; accept plain decimals only.
        let plain = !value.isEmpty && value.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard plain, let number = Double(value), number.isFinite, number >= 0 else {
            return .failure(Expectation("\(quoted(value)) is not valid; expected new calls per second, 0 (no limit) or more, e.g. 50 or 2.5"))
        }
        return .success(number)
    }

    static func port(_ value: String) -> Parsed<Int> {
        integer(value, in: 1...65535, "a TCP port from 1 to 65535")
    }

    static func weight(_ value: String) -> Parsed<Int> {
        integer(value, in: 1...1000, "a whole number from 1 to 1000 (the share of calls with ami_selection = spread)")
    }

    static func choice<T: RawRepresentable & CaseIterable>(_ value: String, _ type: T.Type) -> Parsed<T> where T.RawValue == String {
        if let choice = T(rawValue: value.lowercased()) { return .success(choice) }
        let names = T.allCases.map(\.rawValue)
        return .failure(Expectation("\(quoted(value)) is not valid; expected \(list(names))"))
    }

    static func logLevel(_ value: String) -> Parsed<Logger.Level> {
        if let level = Logger.Level(rawValue: value.lowercased()) { return .success(level) }
        return .failure(Expectation("\(quoted(value)) is not valid; expected \(list(Logger.Level.allCases.map(\.rawValue)))"))
    }

    static func absolutePath(_ value: String) -> Parsed<String> {
        guard value.hasPrefix("/") else {
            return .failure(Expectation("\(quoted(value)) is not valid; expected an absolute path (starting with /)"))
        }
        return .success(value)
    }

    /// A number of seconds within `range` (decimals allowed, as for max_cps).
    static func seconds(_ value: String, in range: ClosedRange<Double>) -> Parsed<Double> {
        let plain = !value.isEmpty && value.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard plain, let number = Double(value), range.contains(number) else {
            let bounds = [range.lowerBound, range.upperBound].map { $0 == $0.rounded() ? String(Int($0)) : String($0) }
            return .failure(Expectation("\(quoted(value)) is not valid; expected seconds from \(bounds[0]) to \(bounds[1]), e.g. 10 or 2.5"))
        }
        return .success(number)
    }

    /// A path on an HTTP server: starts with `/`, no query, fragment or space.
    static func urlPath(_ value: String) -> Parsed<String> {
        guard value.hasPrefix("/"), !value.contains(where: { $0 == "?" || $0 == "#" || $0 == " " }) else {
            return .failure(Expectation("\(quoted(value)) is not valid; expected a path starting with / (such as /rawman), without ?, # or spaces"))
        }
        return .success(value)
    }

    static func nonEmpty(_ value: String, _ what: String) -> Parsed<String> {
        value.isEmpty ? .failure(Expectation("is empty; expected \(what)")) : .success(value)
    }

    static func quoted(_ value: String) -> String { "\"\(value)\"" }

    static func list(_ names: [String]) -> String {
        names.count <= 1 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names.last!
    }
}
