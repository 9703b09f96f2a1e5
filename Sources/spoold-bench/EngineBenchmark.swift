import ArgumentParser

// Replaced by the issue that builds this benchmark.
struct EngineBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "engine", abstract: "Not built yet.")
    func run() async throws { throw ExitCode.failure }
}
