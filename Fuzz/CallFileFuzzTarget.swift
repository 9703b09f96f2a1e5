// libFuzzer target for the call-file parser, compiled together with Sources/CallFile by scripts/fuzz.
// Beyond "no crash" it checks what spoold relies on:
// - a runnable file carries no CR, LF or NUL in any value that can reach the AMI wire;
// - every file the writer accepts reads back as the same value: parse(write(x)) == x, and writing that
//   again gives the same bytes.

@_cdecl("LLVMFuzzerTestOneInput")
public func callFileFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let parsed = CallFileParser.parse(bytes, path: "fuzz.call")
    if parsed.isRunnable {
        for value in wireValues(parsed.file) where value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) {
            fatalError("runnable call file with a control character in a value: \(value.debugDescription)")
        }
    }
    guard let written = try? CallFileWriter.bytes(for: parsed.file) else { return 0 }
    let reread = CallFileParser.parse(written, path: "fuzz.call")
    guard withoutLineNumbers(reread.file) == withoutLineNumbers(parsed.file) else {
        fatalError("round trip changed the file:\n\(parsed.file)\n->\n\(reread.file)\nwritten: \(String(decoding: written, as: UTF8.self).debugDescription)")
    }
    guard let rewritten = try? CallFileWriter.bytes(for: reread.file), rewritten == written else {
        fatalError("writing the re-read file gave other bytes")
    }
    return 0
}

/// Records remember the line they were read from; the writer lays lines out afresh, so that is not compared.
private func withoutLineNumbers(_ file: CallFile) -> CallFile {
    var file = file
    for index in file.records.indices { file.records[index].line = nil }
    return file
}

/// Every string of a call file that spoold puts into an Originate.
private func wireValues(_ file: CallFile) -> [String] {
    var values = [file.application, file.data, file.context, file.extension, file.account]
    if let channel = file.channel { values.append(channel.description) }
    if let callerID = file.callerID { values.append(String(describing: callerID)) }
    for variable in file.variables { values += [variable.name, variable.value] }
    values += file.codecLines
    return values
}
