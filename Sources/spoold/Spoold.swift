import ArgumentParser
import BuildInfo

@main
struct Spoold: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spoold",
        abstract: "Processes Asterisk call files from outside Asterisk, dialling them through AMI.",
        version: BuildInfo.versionLine(command: "spoold"),
        subcommands: [RunCommand.self, CheckCommand.self, StatusCommand.self, QueueCommand.self, CancelCommand.self,
                      RescheduleCommand.self, AMIPingCommand.self, OriginateCommand.self],
        defaultSubcommand: nil
    )
}
