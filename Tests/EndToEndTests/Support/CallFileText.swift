/// Call-file text: one `Key: value` line per pair, each ending in LF, in the order given (keys may repeat).
func callFile(_ pairs: KeyValuePairs<String, String>) -> String {
    pairs.map { "\($0.key): \($0.value)\n" }.joined()
}
