import MakeCall

MakeCallCommand.runAsMain()
