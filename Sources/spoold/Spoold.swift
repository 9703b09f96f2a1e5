import ArgumentParser

@main
struct Spoold: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spoold",
        abstract: "Processes Asterisk call files from outside Asterisk, dialling them through AMI.",
        subcommands: [RunCommand.self, CheckCommand.self, StatusCommand.self, AMIPingCommand.self, OriginateCommand.self],
        defaultSubcommand: nil
    )
}
