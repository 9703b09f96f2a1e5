import ArgumentParser

// Replaced by the issue that builds `spoold run`.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Not built yet.")
    func run() async throws { throw ExitCode.failure }
}
