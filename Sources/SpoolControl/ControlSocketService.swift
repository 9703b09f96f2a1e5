#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Spooler

/// The control socket of a running spoold: `<spool>/.spoold.control`, a Unix stream socket (never a
/// network one). One request line per connection, answered, then closed (`ControlCodec`).
///
/// Who may write the spool may control it: the socket's mode follows `outgoing/`'s (owner read-write
/// always; group read-write when outgoing/ is group-writable, with outgoing/'s group; others when it is
/// world-writable), and connecting to a Unix socket needs write permission on it. A socket left by a
/// crashed spoold is replaced (the spool lock says no other spoold runs); a clean shutdown removes it.
/// Bound before the service group starts.
public final class ControlSocketService: Service, Sendable, CustomStringConvertible {
    public typealias Responder = @Sendable (ControlRequest) async -> ControlResponse

    private let channel: any Channel
    public let path: String

    public static func path(spoolDirectory: String) -> String { spoolDirectory + "/.spoold.control" }

    private init(channel: any Channel, path: String) {
        self.channel = channel
        self.path = path
    }

    public var description: String { "ControlSocketService(\(path))" }

    /// Binds the socket (replacing a stale one) and sets its permissions from `outgoing`'s.
    public static func bind(
        spoolDirectory: String, outgoingPath: String, respond: @escaping Responder,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> ControlSocketService {
        let path = Self.path(spoolDirectory: spoolDirectory)
        var existing = stat()
        if lstat(path, &existing) == 0, existing.st_mode & S_IFMT != S_IFSOCK {
            throw ControlSocketError("\(path) exists and is not a socket; remove it")
        }
        let channel = try await ServerBootstrap(group: group)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ControlConnectionHandler(respond: respond))
                }
            }
            // Also makes NIO remove the socket file when the channel closes.
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true)
            .get()
        do {
            try setPermissions(path, like: outgoingPath)
        } catch {
            try? await channel.close()
            throw error
        }
        return ControlSocketService(channel: channel, path: path)
    }

    /// Owner rw; group and others rw only where outgoing/ lets them write.
    static func setPermissions(_ path: String, like outgoingPath: String) throws {
        var directory = stat()
        guard stat(outgoingPath, &directory) == 0 else {
            throw ControlSocketError("cannot stat \(outgoingPath): \(String(cString: strerror(errno)))")
        }
        let mode = socketMode(directoryMode: directory.st_mode)
        if mode & 0o060 != 0, directory.st_gid != getegid(), chown(path, uid_t.max, directory.st_gid) != 0 {
            throw ControlSocketError("cannot give \(path) the group of \(outgoingPath) (gid \(directory.st_gid)): \(String(cString: strerror(errno)))")
        }
        guard chmod(path, mode) == 0 else {
            throw ControlSocketError("cannot set the mode of \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// The socket's mode for a spool directory of this mode.
    public static func socketMode(directoryMode: mode_t) -> mode_t {
        var mode: mode_t = 0o600
        if directoryMode & 0o020 != 0 { mode |= 0o060 }
        if directoryMode & 0o002 != 0 { mode |= 0o006 }
        return mode
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try await close()
    }

    /// Stops listening; closing removes the socket file (`cleanupExistingSocketFile`).
    public func close() async throws {
        try await channel.close()
    }
}

extension ControlSocketService {
    /// Answers requests with the engine: the listing sorted by due time, cancel and reschedule through
    /// the engine's inbox.
    public static func responder(for engine: SpoolEngine) -> Responder {
        { request in
            switch request {
            case .queue: return .listing(QueueListing.sorted(await engine.queueEntries()))
            case .cancel(let name): return ControlResponse(await engine.cancel(name))
            case .reschedule(let name, let due): return ControlResponse(await engine.reschedule(name, to: due))
            }
        }
    }
}

extension ControlResponse {
    public init(_ reply: SpoolStateMachine.ControlReply) {
        switch reply {
        case .done(let text): self = .done(text)
        case .unknown(let text): self = .unknown(text)
        case .refused(let text): self = .refused(text)
        }
    }
}

public struct ControlSocketError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Reads one request line, has it answered, writes the answer and closes. A line that cannot be read
/// gets an `error` answer; nothing a client sends can do more than that.
final class ControlConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let respond: ControlSocketService.Responder
    private var line: [UInt8] = []
    private var answered = false

    init(respond: @escaping ControlSocketService.Responder) { self.respond = respond }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        let buffer = unwrapInboundIn(data)
        let bytes = buffer.readableBytesView
        if let end = bytes.firstIndex(of: UInt8(ascii: "\n")) {
            line += bytes[..<end]
            answer(context: context)
        } else {
            line += bytes
            if line.count > ControlCodec.maxRequestLength {
                answered = true
                write(.badRequest("request longer than \(ControlCodec.maxRequestLength) bytes"), context: context)
            }
        }
    }

    /// A client that sends its request without the final LF and then shuts down its side.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event, !answered { answer(context: context) }
        context.fireUserInboundEventTriggered(event)
    }

    private func answer(context: ChannelHandlerContext) {
        answered = true
        let request: ControlRequest
        do {
            request = try ControlCodec.decodeRequest(line)
        } catch {
            write(.badRequest(error.description), context: context)
            return
        }
        let respond = self.respond
        let promise = context.eventLoop.makePromise(of: [UInt8].self)
        promise.completeWithTask { ControlCodec.encode(await respond(request)) }
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        promise.futureResult.whenSuccess { bytes in
            Self.write(bytes, context: bound.value)
        }
    }

    private func write(_ response: ControlResponse, context: ChannelHandlerContext) {
        Self.write(ControlCodec.encode(response), context: context)
    }

    private static func write(_ bytes: [UInt8], context: ChannelHandlerContext) {
        let buffer = context.channel.allocator.buffer(bytes: bytes)
        // Closed once the whole answer is written (a large listing takes several writes).
        context.writeAndFlush(NIOAny(buffer)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
