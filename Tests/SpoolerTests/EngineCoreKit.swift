import CallFile
import EngineTestSupport
import Testing
@testable import Spooler

/// Drives `SpoolStateMachine` the way the shell does, with `outgoing/` and `outgoing_done/` as dictionaries:
/// steps the shell performs on its loop (stat, read, append, Status line, delete, rewrite) are answered at
/// once from memory, so a test feeds only what comes from outside (changes, ticks, call stages, the archive
/// mover's results, recovery answers, time) and reads back the actions. No directory, no clock, no sleep.
struct EngineCoreKit {
    static let t0 = SpoolInstant(seconds: 1_795_364_000)
    static let pid = 2381

    struct MemoryFile {
        var bytes: [UInt8]
        var mtime: SpoolInstant
        var id: FileID
        var kind: EntryKind = .regular
        /// Errno of an open for writing (0: writable), e.g. EACCES or EPERM of an immutable file.
        var writeErrno: Int32 = 0
        var timesSettable = true
        var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    var core: SpoolStateMachine
    var now = t0
    var outgoing: [String: MemoryFile] = [:]
    var done: [String: String] = [:]
    /// outgoing_done cannot be made (a regular file in its place).
    var doneBlocked = false
    /// Errno of every unlink (0: it works).
    var unlinkErrno: Int32 = 0
    /// Every action, in the order the core gave them.
    var actions: [SpoolStateMachine.Action] = []
    /// Calls placed, and the token each file's call reports with.
    var placed: [CallRequest] = []
    var tokens: [String: UInt64] = [:]
    /// Archives handed to the mover, not yet moved (`completeMoves`).
    var moves: [(name: String, file: FileID)] = []
    /// Channels the core asked about.
    var asked: [String: String] = [:]
    /// The last wait the core asked for.
    var wake: SpoolInstant?
    /// Control replies by request number; the calls whose hangup was asked for (ChannelIds).
    var replies: [UInt64: SpoolStateMachine.ControlReply] = [:]
    var hangUps: [String] = []
    private var lastRequest: UInt64 = 0
    private var nextInode: UInt64 = 1

    init(maxConcurrent: Int = 0, maxCallsPerSecond: Double = 0, trunks: [TrunkLimits.Rule] = [],
         rules: CallingRules = CallingRules(), configure: (inout SpoolStateMachine.Settings) -> Void = { _ in }) {
        var settings = SpoolStateMachine.Settings(
            outgoingPath: "/spool/outgoing", donePath: "/spool/outgoing_done", pid: Self.pid, uid: 1000,
            maxFileSize: 1 << 20, finishAtAnswer: false, stepRetryDelay: .seconds(10), backendRetryDelay: .seconds(1),
            shutdownGrace: .seconds(10))
        configure(&settings)
        core = SpoolStateMachine(settings: settings, limits: EngineLimits(maxConcurrent: maxConcurrent,
                                                                           maxCallsPerSecond: maxCallsPerSecond, trunks: trunks,
                                                                           callingRules: rules))
    }

    // MARK: Files

    mutating func newID() -> FileID {
        nextInode += 1
        return FileID(device: 1, inode: nextInode)
    }

    /// Puts a file into outgoing/ (renamed in: a new identity), without telling the core.
    mutating func put(_ name: String, _ text: String, mtime: SpoolInstant? = nil, kind: EntryKind = .regular) {
        outgoing[name] = MemoryFile(bytes: Array(text.utf8), mtime: mtime ?? now, id: newID(), kind: kind)
    }

    /// Puts a file into outgoing/ and reports it as the watcher would.
    @discardableResult
    mutating func submit(_ name: String, _ text: String, mtime: SpoolInstant? = nil) -> [SpoolStateMachine.Action] {
        put(name, text, mtime: mtime)
        return feed(.change(.appeared(name)))
    }

    func info(_ name: String) -> EntryInfo? {
        outgoing[name].map { EntryInfo(kind: $0.kind, mtime: $0.mtime, size: Int64($0.bytes.count), uid: 0, mode: 0o644, fileID: $0.id) }
    }

    // MARK: Driving

    /// Start-up with what is in outgoing/ now.
    @discardableResult
    mutating func start() -> [SpoolStateMachine.Action] {
        let listing = outgoing.keys.sorted().map { ($0, info($0)) }
        return feed(.started(recovered: [], listing: .success(listing)))
    }

    /// Feeds one event, answering every step at once as the shell does; returns every action it led to.
    @discardableResult
    mutating func feed(_ event: SpoolStateMachine.Event) -> [SpoolStateMachine.Action] {
        var all: [SpoolStateMachine.Action] = []
        for action in core.handle(event, now: now) {
            all.append(action)
            actions.append(action)
            if let result = perform(action) { all += feed(result) }
        }
        checkSchedule()
        return all
    }

    /// The schedule and the entries agree after every event: a name is in the schedule (its entry holds a
    /// stamp) exactly when its state waits for a time, and the scheduler counts exactly those names.
    func checkSchedule() {
        var stamped = 0
        for (name, entry) in core.files {
            let waits: Bool
            switch entry.state {
            case .scheduled, .held, .finishRetry: waits = true
            default: waits = false
            }
            #expect(entry.stamp.isScheduled == waits, "\(name): \(entry.state), stamp \(entry.stamp)")
            if entry.stamp.isScheduled { stamped += 1 }
        }
        #expect(core.scheduler.count == stamped, "the scheduler counts \(core.scheduler.count) names, the entries hold \(stamped) stamps")
    }

    /// One turn: ticks until the core says how long to wait; returns the actions of the turn.
    @discardableResult
    mutating func tick(ready: Bool = true, allowedAt: SpoolInstant?? = .none) -> [SpoolStateMachine.Action] {
        var all: [SpoolStateMachine.Action] = []
        while true {
            let gate = SpoolStateMachine.Gate(ready: ready, allowedAt: ready ? (allowedAt ?? now) : nil)
            let turn = feed(.tick(gate))
            all += turn
            if case .wait(let until)? = turn.last {
                wake = until
                return all
            }
            if turn.isEmpty || turn.last == .stopped { return all }  // stopped: nothing more
        }
    }

    /// Moves the clock and runs a turn.
    @discardableResult
    mutating func advance(to instant: SpoolInstant) -> [SpoolStateMachine.Action] {
        now = instant
        return tick()
    }

    @discardableResult
    mutating func advance(by duration: Duration) -> [SpoolStateMachine.Action] { advance(to: now.adding(duration)) }

    /// Reports a stage of the call in flight for `name`, then runs a turn.
    @discardableResult
    mutating func report(_ name: String, _ stages: CallStage?..., end: Bool = true) -> [SpoolStateMachine.Action] {
        var all: [SpoolStateMachine.Action] = []
        for stage in stages { all += feed(.callStage(name, token: tokens[name] ?? 0, stage)) }
        if end, stages.last.map({ $0?.isTerminal ?? true }) == true { all += feed(.callStage(name, token: tokens[name] ?? 0, nil)) }
        return all + tick()
    }

    /// The mover's results for every archive handed over, then a turn.
    @discardableResult
    mutating func completeMoves() -> [SpoolStateMachine.Action] {
        var all: [SpoolStateMachine.Action] = []
        let pending = moves
        moves.removeAll()
        for (name, file) in pending {
            let result: Result<String?, SpoolStateMachine.StepFailure>
            if doneBlocked {
                result = .failure(.init(code: 17, text: "mkdir /spool/outgoing_done: File exists (errno 17)", infoAfter: nil))
            } else if let current = outgoing[name], current.id == file {
                result = .success(archive(name, outgoing.removeValue(forKey: name)!.text))
            } else {
                result = .success(nil)
            }
            all += feed(.archived(name, result))
        }
        return all + tick()
    }

    /// outgoing_done's no-replace naming: an older archive moves to the first free `name.N`.
    mutating func archive(_ name: String, _ text: String) -> String {
        if let older = done[name] {
            var n = 1
            while done["\(name).\(n)"] != nil { n += 1 }
            done["\(name).\(n)"] = older
        }
        done[name] = text
        return name
    }

    func failure(_ code: Int32, _ text: String, _ name: String) -> SpoolStateMachine.StepFailure {
        .init(code: code, text: text, infoAfter: info(name))
    }

    /// What the shell does for one action; a step's result, to be fed back at once.
    mutating func perform(_ action: SpoolStateMachine.Action) -> SpoolStateMachine.Event? {
        switch action {
        case .stat(let name): return .statted(name, info(name))
        case .read(let name, _):
            guard let file = outgoing[name] else { return .fileRead(name, .gone) }
            switch file.kind {
            case .symlink: return .fileRead(name, .symlink)
            case .other: return .fileRead(name, .notRegular)
            case .regular:
                if file.bytes.count > 1 << 20 { return .fileRead(name, .tooLarge(Int64(file.bytes.count))) }
                return .fileRead(name, .read(file.bytes, info(name)!))
            }
        case .appendRecord(let name, let bytes, let atime, let mtime, let statAfter):
            guard var file = outgoing[name] else { return .recordWritten(name, .failure(failure(2, "open for append: No such file or directory (errno 2)", name))) }
            guard file.writeErrno == 0 else {
                return .recordWritten(name, .failure(failure(file.writeErrno, "open for append: Operation not permitted (errno \(file.writeErrno))", name)))
            }
            let before = Int64(file.bytes.count)
            file.bytes += bytes
            _ = atime
            if file.timesSettable { file.mtime = mtime }
            outgoing[name] = file
            let times = file.timesSettable ? nil : failure(1, "set times: Operation not permitted (errno 1)", name)
            return .recordWritten(name, .success(.init(lengthBefore: before, fileID: file.id, timesFailure: times,
                                                       infoAfter: statAfter || times != nil ? info(name) : nil)))
        case .truncate(let name, let length, let mtime):
            outgoing[name]?.bytes.removeSubrange(Int(length)...)
            outgoing[name]?.mtime = mtime
            return .truncated(name, nil)
        case .setMtime(let name, let mtime):
            guard outgoing[name]?.timesSettable == true else { return .timesSet(name, failure(1, "set times: Operation not permitted (errno 1)", name)) }
            outgoing[name]!.mtime = mtime
            return .timesSet(name, nil)
        case .place(let name, let request, let token):
            placed.append(request)
            tokens[name] = token
        case .follow(let name, _, let token): tokens[name] = token
        case .askChannel(let name, let channelId): asked[name] = channelId
        case .markFinished(let name, let status):
            guard let file = outgoing[name], file.writeErrno == 0 else { return .marked(name, nil) }
            outgoing[name]!.bytes += status.line(afterFileEndingWith: file.bytes.last)
            return .marked(name, file.id)
        case .moveMarked(let name, let file): moves.append((name, file))
        case .moveUnmarked(let name):
            guard let file = outgoing.removeValue(forKey: name) else { return .movedUnmarked(name, .failure(failure(2, "rename: No such file or directory (errno 2)", name))) }
            return .movedUnmarked(name, .success(archive(name + ".failed", file.text)))
        case .delete(let name):
            if unlinkErrno != 0 { return .deleted(name, failure(unlinkErrno, "unlink: Permission denied (errno \(unlinkErrno))", name)) }
            guard outgoing.removeValue(forKey: name) != nil else { return .deleted(name, failure(2, "unlink: No such file or directory (errno 2)", name)) }
            return .deleted(name, nil)
        case .archiveSymlink(let name):
            outgoing[name] = nil
            return .symlinkArchived(name, .success(archive(name, "; symlink\nStatus: Failed\n")))
        case .rewrite(let name, let bytes, _, let mtime):
            outgoing[name]?.bytes = bytes
            outgoing[name]?.mtime = mtime
            return .rewritten(name, nil)
        case .wait(let until): wake = until
        case .reply(let id, let reply): replies[id] = reply
        case .hangUp(_, let channelId): hangUps.append(channelId)
        case .setDue(let name, let due, let reply):
            guard let file = outgoing[name] else {
                return .dueSet(name, due, reply: reply, .init(code: 2, text: "set times: No such file or directory (errno 2)", infoAfter: nil))
            }
            guard file.timesSettable else { return .dueSet(name, due, reply: reply, failure(1, "set times: Operation not permitted (errno 1)", name)) }
            outgoing[name]!.mtime = due
            return .dueSet(name, due, reply: reply, nil)
        case .log, .debug, .logReady, .emit, .removeLeftover, .reopenOutgoing, .reopenDoneDirectory, .stopped: break
        }
        return nil
    }

    // MARK: Queue control

    /// `spoold cancel NAME`: the core's answer (nil if it gave none, which must not happen).
    @discardableResult
    mutating func cancel(_ name: String) -> SpoolStateMachine.ControlReply? {
        lastRequest += 1
        let id = lastRequest
        feed(.cancel(name, reply: id))
        return replies[id]
    }

    @discardableResult
    mutating func reschedule(_ name: String, to due: SpoolInstant) -> SpoolStateMachine.ControlReply? {
        lastRequest += 1
        let id = lastRequest
        feed(.reschedule(name, to: due, reply: id))
        return replies[id]
    }

    // MARK: Reading the actions

    var emitted: [EngineEvent] { actions.compactMap { if case .emit(let event) = $0 { event } else { nil } } }
    var logLines: [String] { actions.compactMap { if case .log(_, let text) = $0 { text } else { nil } } }
    func logged(_ fragments: String...) -> Bool { logLines.contains { line in fragments.allSatisfy { line.contains($0) } } }

    /// The file's finish, as its event says.
    func finished(_ name: String) -> (CallStatus, EngineEvent.Disposition)? {
        for case .finished(name, let status, let disposition, _) in emitted.reversed() { return (status, disposition) }
        return nil
    }

    func started(_ name: String) -> [Int] {
        emitted.compactMap { if case .attemptStarted(name, let attempt, _) = $0 { attempt } else { nil } }
    }

    /// Names of the files dialled, in order.
    var dialled: [String] { emitted.compactMap { if case .attemptStarted(let name, _, _) = $0 { name } else { nil } } }
}

