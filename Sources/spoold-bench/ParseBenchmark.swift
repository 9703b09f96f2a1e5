import ArgumentParser

// Replaced by the issue that builds this benchmark.
struct ParseBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "parse", abstract: "Not built yet.")
    func run() async throws { throw ExitCode.failure }
}
