import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One machine-readable line per figure, beside each benchmark's own human output, so that
/// `scripts/bench` can gather every benchmark into one table without parsing prose:
/// `BENCH<TAB>figure<TAB>target<TAB>result<TAB>pass|FAIL|-`
func printFigure(_ figure: String, target: String, result: String, pass: Bool?) {
    let verdict = pass.map { $0 ? "pass" : "FAIL" } ?? "-"
    print(["BENCH", figure, target, result, verdict].joined(separator: "\t"))
}

/// The 1, 5 and 15-minute load averages: other work on the machine moves every figure, so each benchmark
/// prints them beside its table.
func loadAverage() -> String {
    var loads = [Double](repeating: 0, count: 3)
    guard getloadavg(&loads, 3) == 3 else { return "unknown" }
    return String(format: "%.2f %.2f %.2f", loads[0], loads[1], loads[2])
}
