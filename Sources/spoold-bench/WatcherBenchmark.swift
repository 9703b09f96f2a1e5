import ArgumentParser

// Replaced by the issue that builds this benchmark.
struct WatcherBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "watcher", abstract: "Not built yet.")
    func run() async throws { throw ExitCode.failure }
}
