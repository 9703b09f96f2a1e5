import HeapModule

/// Which files are due when. A pure value type: a min-heap of (due, order, name) with lazy deletion,
/// so rescheduling and forgetting are O(log n) and never scan the heap. The heap does not keep a table of
/// its own: each scheduled name's `Stamp` (its due time and order) lives in its owner's table beside the
/// name's other facts (`SpoolStateMachine.files`), so a name costs one hash-table slot, not two. A heap
/// entry is live only while its order matches the stamp in that table.
public struct Scheduler: Sendable {
    /// A name's place in the schedule, kept in the owner's table; `none` (order 0) when not scheduled.
    public struct Stamp: Equatable, Sendable, Scheduled {
        public var due: SpoolInstant
        /// Ties on `due` go first-come first-served; doubles as the generation stamp. Starts at 1.
        var order: UInt64
        public static let none = Stamp(due: SpoolInstant(nanoseconds: 0), order: 0)
        public var isScheduled: Bool { order != 0 }
        public var stamp: Stamp { get { self } set { self = newValue } }
    }

    struct Entry: Comparable, Sendable {
        var due: SpoolInstant
        var order: UInt64
        var name: String

        static func < (lhs: Entry, rhs: Entry) -> Bool {
            lhs.due != rhs.due ? lhs.due < rhs.due : lhs.order < rhs.order
        }
        static func == (lhs: Entry, rhs: Entry) -> Bool { lhs.order == rhs.order }
    }

    private var heap = Heap<Entry>()
    private var nextOrder: UInt64 = 0
    /// Names scheduled (stamps given and not yet removed or popped).
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    /// Makes room for `count` files at once (the start-up listing), so the heap is not grown step by step.
    public mutating func reserveCapacity(_ count: Int) { heap.reserveCapacity(count) }

    /// Schedules a name at `due` through its `stamp`, replacing any earlier schedule of it. Returns false
    /// when it was already scheduled at exactly that time (nothing changed).
    @discardableResult
    public mutating func upsert(_ name: String, due: SpoolInstant, stamp: inout Stamp) -> Bool {
        if stamp.isScheduled && stamp.due == due { return false }
        if !stamp.isScheduled { count += 1 }
        nextOrder += 1
        stamp = Stamp(due: due, order: nextOrder)
        heap.insert(Entry(due: due, order: nextOrder, name: name))
        return true
    }

    /// Takes a name off the schedule (its heap entry goes stale).
    public mutating func remove(_ stamp: inout Stamp) {
        if stamp.isScheduled { count -= 1 }
        stamp = .none
    }

    /// The earliest live due time.
    public mutating func nextDue<T: Scheduled>(in table: [String: T]) -> SpoolInstant? {
        dropStaleTop(table)
        return heap.min?.due
    }

    /// The name that comes due first.
    public mutating func firstDue<T: Scheduled>(in table: [String: T]) -> String? {
        dropStaleTop(table)
        return heap.min?.name
    }

    /// Takes the earliest file whose due time is at or before `now` off the schedule (its stamp too). One
    /// look-up of the name per file taken: its slot is found once, checked and cleared by its index.
    public mutating func popDue<T: Scheduled>(now: SpoolInstant, in table: inout [String: T]) -> String? {
        compactIfMostlyStale(table)
        while let top = heap.min {
            guard let index = table.index(forKey: top.name), table.values[index].stamp.order == top.order else {
                heap.removeMin()  // stale: rescheduled or removed since
                continue
            }
            guard top.due <= now else { return nil }
            heap.removeMin()
            table.values[index].stamp = .none
            count -= 1
            return top.name
        }
        return nil
    }

    private static func isLive<T: Scheduled>(_ entry: Entry, _ table: [String: T]) -> Bool {
        table[entry.name]?.stamp.order == entry.order
    }

    /// Drops dead entries off the top.
    private mutating func dropStaleTop<T: Scheduled>(_ table: [String: T]) {
        compactIfMostlyStale(table)
        while let top = heap.min, !Self.isLive(top, table) { heap.removeMin() }
    }

    /// Many touches of waiting files leave dead entries behind: the heap is rebuilt once they outnumber the
    /// live ones, so memory stays proportional to the files waiting.
    private mutating func compactIfMostlyStale<T: Scheduled>(_ table: [String: T]) {
        guard heap.count > 1024, heap.count > 2 * count else { return }
        heap = Heap(heap.unordered.filter { Self.isLive($0, table) })
    }

    /// Splits the scheduled files of `table` into due by `now` and later, with the earliest later due time.
    public func census<T: Scheduled>(now: SpoolInstant, in table: [String: T]) -> (due: Int, later: Int, nextLater: SpoolInstant?) {
        var (due, later) = (0, 0)
        var nextLater: SpoolInstant?
        for value in table.values where value.stamp.isScheduled {
            let time = value.stamp.due
            if time <= now {
                due += 1
            } else {
                later += 1
                if nextLater.map({ time < $0 }) ?? true { nextLater = time }
            }
        }
        return (due, later, nextLater)
    }
}

/// What a `Scheduler` looks names up in: a value that carries the name's stamp.
public protocol Scheduled { var stamp: Scheduler.Stamp { get set } }
