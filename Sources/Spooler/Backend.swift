import CallFile

/// One dial attempt as a backend sees it: everything is already decided from the call file.
public struct CallRequest: Sendable, Equatable {
    public enum Target: Sendable, Equatable {
        case application(name: String, data: String)
        /// Empty context or extension are left out of the Originate (the driver's defaults apply).
        case dialplan(context: String, extension: String, priority: Int)
    }

    /// `Tech/Resource`.
    public var channel: String
    public var target: Target
    /// The ring timeout (the file's WaitTime).
    public var timeout: Duration
    public var callerID: String?
    public var account: String?
    /// One per name, the file's last `Set` of it winning, then `AST_OUTGOING_ATTEMPT`.
    public var variables: [(name: String, value: String)]
    /// The final codec list (slin plus the file's changes).
    public var codecs: [String]
    /// Only ever true in dialplan mode, as in Asterisk.
    public var earlyMedia: Bool
    /// The Uniqueid the channel gets, recomputable from the file (see `ChannelID`).
    public var channelId: String

    public static func == (lhs: CallRequest, rhs: CallRequest) -> Bool {
        lhs.channel == rhs.channel && lhs.target == rhs.target && lhs.timeout == rhs.timeout
            && lhs.callerID == rhs.callerID && lhs.account == rhs.account
            && lhs.variables.map(\.name) == rhs.variables.map(\.name)
            && lhs.variables.map(\.value) == rhs.variables.map(\.value)
            && lhs.codecs == rhs.codecs && lhs.earlyMedia == rhs.earlyMedia && lhs.channelId == rhs.channelId
    }
}

extension CallRequest {
    public static let attemptVariable = OriginateLimits.attemptVariable

    /// Builds attempt `attempt` of `file`. Nil when the file has no channel (the parser marks such a
    /// file invalid, so the engine never gets here with one).
    public init?(file: CallFile, attempt: Int, channelId: String) {
        guard let channel = file.channel else { return nil }
        self.channel = channel.description
        switch file.mode {
        case .application(let name, let data):
            target = .application(name: name, data: data)
            earlyMedia = false
        case .dialplan(let context, let exten, let priority):
            target = .dialplan(context: context, extension: exten, priority: priority)
            earlyMedia = file.earlyMedia
        }
        timeout = .seconds(file.waitTime)
        callerID = file.callerID.flatMap(Self.callerID)
        account = file.account.isEmpty ? nil : file.account
        variables = Self.lastWins(file.effectiveVariables.map { ($0.name, $0.value) } + [(Self.attemptVariable, String(attempt))])
        codecs = file.finalCodecs
        self.channelId = channelId
    }

    /// The CallerID as Asterisk parsed it from the file (name and number, the number already
    /// normalised), so AMI receives exactly the parsed values rather than the raw text.
    static func callerID(_ parsed: CallerID) -> String? {
        parsed.originateValue
    }

    /// AMI keeps the first `Variable` of a name while call files keep the last `Set`: send each name
    /// once, with its last value, in the order of its first appearance.
    static func lastWins(_ pairs: [(String, String)]) -> [(name: String, value: String)] {
        // A call file sets a few variables: a scan of those kept so far beats hashing every name.
        if pairs.count <= 16 {
            var kept: [(name: String, value: String)] = []
            kept.reserveCapacity(pairs.count)
            for (name, value) in pairs {
                if let index = kept.firstIndex(where: { $0.name == name }) { kept[index].value = value } else { kept.append((name, value)) }
            }
            return kept
        }
        var order: [String] = []
        var values: [String: String] = [:]
        for (name, value) in pairs {
            if values.updateValue(value, forKey: name) == nil { order.append(name) }
        }
        return order.map { ($0, values[$0]!) }
    }
}

/// How far an attempt got, as a backend reports it. A stream ends after a terminal stage.
public enum CallStage: Sendable, Equatable {
    /// The PBX accepted the call and is dialling.
    case placed
    /// Answered (reason 4). The attempt goes on until `hungUp`.
    case answered(channel: String)
    /// The call failed before answer with this reason code (reference §6): a failed attempt. Terminal.
    case failed(reason: Int, text: String)
    /// The answered call is over. Terminal.
    case hungUp
    /// The PBX refused the call for good (AMI `Response: Error`): the file fails. Terminal.
    case rejected(String)
    /// The call never reached the PBX (no connection, or it is shutting down): not an attempt. Terminal.
    case notPlaced(String)

    public var isTerminal: Bool {
        switch self {
        case .placed, .answered: return false
        default: return true
        }
    }
}

/// Something that places calls: Asterisk over AMI, or the built-in simulated PBX.
public protocol CallBackend: Sendable {
    /// False while calls cannot be placed (no AMI connection): due files wait, nothing is written.
    var isReady: Bool { get }
    /// Starts one attempt. The stream yields its stages and ends after a terminal one.
    func place(_ request: CallRequest) -> AsyncStream<CallStage>
    /// Starts one attempt and hands its stages to `report` as they happen, then `nil` once the backend has
    /// nothing more to say. The engine uses this one: a stream and a task per call cost more than the
    /// call itself when thousands are placed per second. `report` is called from any thread, in order.
    func place(_ request: CallRequest, report: @escaping CallReport)
    /// Whether a channel with this Uniqueid is up; nil when the backend cannot tell right now
    /// (for example while the AMI connection is down).
    func channelExists(_ channelId: String) async -> Bool?
    /// The stream of an adopted call (found after a restart): yields `answered` if and when it is (or
    /// was) answered, and ends with `hungUp` when it is over; a call that ends unanswered never yields
    /// `answered`, so the engine counts it as a failed attempt.
    func awaitHangup(of channelId: String) -> AsyncStream<CallStage>
    /// Hangs up the call whose ChannelId (its Uniqueid) this is, for `spoold cancel`: AMI `Hangup`. The
    /// call's report then ends as for any hangup. Returns normally when it was hung up or is gone already;
    /// throws why it could not be (no connection, refused).
    func hangUp(channelId: String) async throws
    /// For backends with limits of their own (the AMI server pool), asked while `isReady`: when the
    /// backend can take the next call. `now` or earlier: at once; later: not before then; nil: not until
    /// the backend calls the wake-up given to `wakeWhenReady`.
    func nextCallAllowed(now: SpoolInstant) -> SpoolInstant?
    /// Gives the backend the engine's wake-up, to call when it may take calls again (a server logged
    /// in, a call ended on a full server). Returns false if it never calls it: the engine then looks
    /// again every `backendRetryDelay` while the backend is not ready.
    func wakeWhenReady(_ wake: @escaping @Sendable () -> Void) -> Bool
}

/// Receives one call's stages in order; `nil` ends the report (after a terminal stage, or without one).
public typealias CallReport = @Sendable (CallStage?) -> Void

extension CallBackend {
    /// For backends that only have the stream: read it in a task.
    public func place(_ request: CallRequest, report: @escaping CallReport) {
        forward(place(request), to: report)
    }

    /// A backend without limits of its own can always take the next call while it is ready.
    public func nextCallAllowed(now: SpoolInstant) -> SpoolInstant? { now }
    public func wakeWhenReady(_ wake: @escaping @Sendable () -> Void) -> Bool { false }
}

/// Reads `stages` in a task of its own and hands each to `report`, then `nil`.
func forward(_ stages: AsyncStream<CallStage>, to report: @escaping CallReport) {
    Task {
        for await stage in stages { report(stage) }
        report(nil)
    }
}

/// Reason texts as Asterisk logs them for call files (reference §6).
public enum ReasonText {
    public static func text(for reason: Int) -> String {
        switch reason {
        case 0: return "Call Failure (not BUSY, and not NO_ANSWER, maybe Circuit busy or down?)"
        case 1: return "Hangup"
        case 2: return "Local Ring"
        case 3: return "Remote end Ringing"
        case 4: return "Remote end has Answered"
        case 5: return "Remote end is Busy"
        case 8: return "Congestion (circuits busy)"
        default: return "Unknown Reason!!"
        }
    }
}
