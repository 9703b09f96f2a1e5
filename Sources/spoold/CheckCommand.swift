import ArgumentParser

// Replaced by the issue that builds `spoold check`.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Not built yet.")
    func run() async throws { throw ExitCode.failure }
}
