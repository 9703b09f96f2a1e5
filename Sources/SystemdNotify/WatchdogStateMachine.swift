/// Decides, tick by tick, whether to tell systemd that spoold is alive.
///
/// "Alive" means the engine answers: each tick asks it a question (the probe, run on its own task), and
/// the next tick pets the watchdog only if that answer has arrived. The ticker itself never waits on the
/// engine, so a wedged engine stops the pets (and systemd restarts spoold) while the ticker stays free to
/// notice the stop signal.
struct WatchdogStateMachine: Equatable {
    enum Probe: Equatable {
        /// No question asked yet.
        case idle
        /// A question is out and unanswered.
        case asking
        /// The answer (a status text) arrived since the last tick.
        case answered(String)
    }

    struct TickAction: Equatable {
        /// Report this status to systemd, with `WATCHDOG=1` when a watchdog is on; nil: stay silent.
        var report: String?
        /// Ask the engine again.
        var startProbe: Bool
        /// Ticks in a row that found the question unanswered (0 when it was answered).
        var silentTicks: Int
    }

    private(set) var probe = Probe.idle
    private(set) var silentTicks = 0

    mutating func tick() -> TickAction {
        switch probe {
        case .idle:
            probe = .asking
            return TickAction(report: nil, startProbe: true, silentTicks: 0)
        case .asking:
            // Never a second question while one is out: a stuck engine would pile them up.
            silentTicks += 1
            return TickAction(report: nil, startProbe: false, silentTicks: silentTicks)
        case .answered(let status):
            probe = .asking
            silentTicks = 0
            return TickAction(report: status, startProbe: true, silentTicks: 0)
        }
    }

    mutating func answered(_ status: String) {
        probe = .answered(status)
    }
}
