/// Queue control of the running engine (`spoold queue`, `cancel`, `reschedule` over the control socket).
/// Requests go through the inbox like any news, and the core decides; the answer comes back as its
/// `.reply` action.
extension SpoolEngine {
    public typealias ControlReply = SpoolStateMachine.ControlReply

    /// Every file the engine knows, read from the core's entries in one pass on the engine's actor (so
    /// between two steps of the loop), unsorted.
    public func queueEntries() -> [QueueEntry] { core.queueEntries(now: clock.now()) }

    /// The time the engine's clock says (for turning `--in` into a due time).
    public nonisolated func now() -> SpoolInstant { clock.now() }

    /// Finishes a waiting file as Cancelled, or hangs up its call in flight first.
    public func cancel(_ name: String) async -> ControlReply {
        await request { .cancel(name, reply: $0) }
    }

    /// Moves a waiting file's due time (its mtime).
    public func reschedule(_ name: String, to due: SpoolInstant) async -> ControlReply {
        await request { .reschedule(name, to: due, reply: $0) }
    }

    private func request(_ event: (UInt64) -> SpoolStateMachine.Event) async -> ControlReply {
        if loopEnded { return .refused("spoold has stopped") }
        lastRequest += 1
        let id = lastRequest
        let posted = event(id)
        return await withCheckedContinuation { continuation in
            replies[id] = continuation
            inbox.post(posted)
        }
    }

    /// The loop has returned: requests still waiting are answered, later ones refused at once.
    func endControl() {
        loopEnded = true
        for continuation in replies.values { continuation.resume(returning: .refused("spoold has stopped")) }
        replies.removeAll()
    }

    /// Hangs up a cancelled file's call off the loop; its end comes back as the call's report.
    func hangUp(_ name: String, channelId: String) {
        let (backend, logger) = (self.backend, self.logger)
        Task.detached {
            do {
                try await backend.hangUp(channelId: channelId)
            } catch {
                logger.warning("[\(name)] cannot hang up its call (ChannelId \(channelId)): \(error); it is finished as Cancelled when the call ends")
            }
        }
    }
}
