/// One machine-readable line per figure, beside each benchmark's own human output, so that
/// `scripts/bench` can gather every benchmark into one table without parsing prose:
/// `BENCH<TAB>figure<TAB>target<TAB>result<TAB>pass|FAIL|-`
func printFigure(_ figure: String, target: String, result: String, pass: Bool?) {
    let verdict = pass.map { $0 ? "pass" : "FAIL" } ?? "-"
    print(["BENCH", figure, target, result, verdict].joined(separator: "\t"))
}
