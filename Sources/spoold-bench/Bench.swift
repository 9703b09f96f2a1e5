import ArgumentParser

/// Benchmarks print their figures; run them with `swift run -c release spoold-bench <name>`.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spoold-bench",
        abstract: "Prints spoold's performance figures beside their targets.",
        subcommands: [ParseBenchmark.self, WatcherBenchmark.self, AMIBenchmark.self, EngineBenchmark.self, CostBenchmark.self,
                      QueueBenchmark.self]
    )
}
