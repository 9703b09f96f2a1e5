import HeapModule

/// Which files are due when. A pure value type: a min-heap of (due, order, name) with lazy deletion,
/// so rescheduling and forgetting are O(log n) and never scan the heap. An entry is live only while
/// its order stamp matches the name's current one.
public struct Scheduler: Sendable {
    struct Entry: Comparable, Sendable {
        var due: SpoolInstant
        /// Ties on `due` go first-come first-served; doubles as the generation stamp.
        var order: UInt64
        var name: String

        static func < (lhs: Entry, rhs: Entry) -> Bool {
            lhs.due != rhs.due ? lhs.due < rhs.due : lhs.order < rhs.order
        }
        static func == (lhs: Entry, rhs: Entry) -> Bool { lhs.order == rhs.order }
    }

    private var heap = Heap<Entry>()
    private var live: [String: (due: SpoolInstant, order: UInt64)] = [:]
    private var nextOrder: UInt64 = 0

    public init() {}

    public var count: Int { live.count }
    public var isEmpty: Bool { live.isEmpty }

    public func due(of name: String) -> SpoolInstant? { live[name]?.due }
    public func contains(_ name: String) -> Bool { live[name] != nil }
    /// Every scheduled name, in no particular order.
    public var names: [String] { Array(live.keys) }
    /// Every scheduled due time, in no particular order.
    var liveDueTimes: some Sequence<SpoolInstant> { live.values.lazy.map(\.due) }

    /// Makes room for `count` files at once (the start-up listing), so the storage is not grown, copied
    /// and left half-empty step by step.
    public mutating func reserveCapacity(_ count: Int) {
        heap.reserveCapacity(count)
        live.reserveCapacity(count)
    }

    /// Schedules `name` at `due`, replacing any earlier schedule of it. Returns false when it was
    /// already scheduled at exactly that time (nothing changed).
    @discardableResult
    public mutating func upsert(_ name: String, due: SpoolInstant) -> Bool {
        // One hash look-up: order stamps start at 1, so a stamp of 0 is a name not scheduled before.
        let stamp = nextOrder + 1
        let changed = Self.restamp(&live[name, default: (due, 0)], due: due, order: stamp)
        guard changed else { return false }
        nextOrder = stamp
        heap.insert(Entry(due: due, order: stamp, name: name))
        compactIfMostlyStale()
        return true
    }

    private static func restamp(_ slot: inout (due: SpoolInstant, order: UInt64), due: SpoolInstant, order: UInt64) -> Bool {
        if slot.order != 0 && slot.due == due { return false }
        slot = (due, order)
        return true
    }

    public mutating func remove(_ name: String) {
        live[name] = nil
        compactIfMostlyStale()
    }

    /// The earliest live due time.
    public mutating func nextDue() -> SpoolInstant? {
        dropStaleTop()
        return heap.min?.due
    }

    /// The name that comes due first.
    public mutating func firstDue() -> String? {
        dropStaleTop()
        return heap.min?.name
    }

    /// Takes the earliest file whose due time is at or before `now` off the schedule.
    public mutating func popDue(now: SpoolInstant) -> String? {
        // One hash look-up per file taken: the live entry is found once, checked and removed by its index.
        while let top = heap.min {
            if let index = live.index(forKey: top.name), live.values[index].order == top.order {
                guard top.due <= now else { return nil }
                heap.removeMin()
                live.remove(at: index)
                return top.name
            }
            heap.removeMin()  // stale: rescheduled or removed since
        }
        return nil
    }

    private func isLive(_ entry: Entry) -> Bool { live[entry.name]?.order == entry.order }

    private mutating func dropStaleTop() {
        while let top = heap.min, !isLive(top) { heap.removeMin() }
    }

    /// Many touches of waiting files leave dead entries behind; rebuild once they outnumber the live
    /// ones so memory stays proportional to the files actually waiting.
    private mutating func compactIfMostlyStale() {
        guard heap.count > 1024, heap.count > 2 * live.count else { return }
        heap = Heap(live.map { Entry(due: $0.value.due, order: $0.value.order, name: $0.key) })
    }
}
