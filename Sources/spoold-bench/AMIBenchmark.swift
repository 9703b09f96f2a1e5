import ArgumentParser

// Replaced by the issue that builds this benchmark.
struct AMIBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ami", abstract: "Not built yet.")
    func run() async throws { throw ExitCode.failure }
}
