import AMI
import NIOCore

/// One AMI-over-HTTP session of the test server (Asterisk's `mansession` behind a `mansession_id` cookie
/// or a digest user): logged in or not, the events queued for it, and the `WaitEvent` waiting on them.
final class HTTPManagerSession: ServerEventSink {
    let id: String
    var loggedIn: Bool
    var lastSeen: NIODeadline
    private var queue: [AMIMessage] = []
    private var waiter: (reply: ([AMIMessage]) -> Void, timer: Scheduled<Void>)?

    init(id: String, loggedIn: Bool, now: NIODeadline) {
        self.id = id
        self.loggedIn = loggedIn
        self.lastSeen = now
    }

    func receive(_ event: AMIMessage) {
        guard loggedIn else { return }
        queue.append(event)
        if let waiter {
            self.waiter = nil
            waiter.timer.cancel()
            deliverQueued(to: waiter.reply)
        }
    }

    /// `WaitEvent`: what is queued at once, otherwise the first events to come or nothing after `timeout`.
    func waitEvent(timeout: TimeAmount, on loop: any EventLoop, reply: @escaping ([AMIMessage]) -> Void) {
        if !queue.isEmpty {
            deliverQueued(to: reply)
            return
        }
        finishWaiting()
        let timer = loop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            guard let waiter else { return }
            self.waiter = nil
            waiter.reply([])
        }
        waiter = (reply, timer)
    }

    /// Ends a pending `WaitEvent` with what there is (the session is going away).
    func finishWaiting() {
        guard let waiter else { return }
        self.waiter = nil
        waiter.timer.cancel()
        waiter.reply([])
    }

    private func deliverQueued(to reply: ([AMIMessage]) -> Void) {
        let events = queue
        queue.removeAll()
        reply(events)
    }
}
