import ArgumentParser

// Replaced by the issue that builds `spoold ami-ping`.
struct AMIPingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ami-ping", abstract: "Not built yet.")
    func run() async throws { throw ExitCode.failure }
}
