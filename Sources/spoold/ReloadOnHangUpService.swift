import ServiceLifecycle
import UnixSignals

/// Reloads the configuration on each SIGHUP until a graceful shutdown. The signal is trapped when the
/// service is made (before the service group starts), so a SIGHUP never finds its default action
/// (terminate) in place once spoold is up.
struct ReloadOnHangUpService: Service, CustomStringConvertible {
    let reloader: ConfigReloader
    private let signals: UnixSignalsSequence

    init(reloader: ConfigReloader) async {
        self.reloader = reloader
        signals = await UnixSignalsSequence(trapping: .sighup)
    }

    var description: String { "ReloadOnHangUp" }

    func run() async throws {
        for await _ in signals.cancelOnGracefulShutdown() {
            _ = await reloader.reload()
        }
    }
}
