import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// An in-process loopback HTTP (or HTTPS) server that answers requests with scripted responses,
/// in order (the last one repeats), or with a handler, and logs each request it saw. For what a
/// real server here cannot produce on cue: throttling and 5xx answers with Retry-After, slow
/// answers that hold a pooled connection, redirects to another origin, a proxy's view of
/// CONNECT, a stack that fails with events, container-credential endpoints. A CONNECT answered
/// with 200 becomes a tunnel to the server itself: the requests sent through it come to the same
/// handler, so the server can stand in for a proxy and the host behind it. It runs on NIO
/// inside the test process: no Python, no port races with a child.
///
/// `ScriptedServer.with(responses) { server in … }` starts it on a random port and stops it.
public final class ScriptedServer: Sendable {
    /// One scripted answer.
    public struct Response: Sendable {
        /// The status.
        public var status: Int
        /// Headers to send (Content-Length is added from the body unless given).
        public var headers: [String: String]
        /// The body (not sent for HEAD).
        public var body: Data
        /// How long to wait before answering (a slow server holding its connection).
        public var delay: Duration
        /// Close the connection instead of answering (a reset for the client).
        public var drop: Bool

        /// An answer with a text body.
        public init(status: Int, headers: [String: String] = [:], body: String = "", delay: Duration = .zero, drop: Bool = false) {
            self.init(status: status, headers: headers, data: Data(body.utf8), delay: delay, drop: drop)
        }

        /// An answer with a binary body.
        public init(status: Int, headers: [String: String] = [:], data: Data, delay: Duration = .zero, drop: Bool = false) {
            self.status = status
            self.headers = headers
            self.body = data
            self.delay = delay
            self.drop = drop
        }

        /// A connection closed without an answer.
        public static let reset = Response(status: 0, drop: true)
    }

    /// One request as the server saw it.
    public struct Request: Sendable {
        /// The method ("GET", "CONNECT", …).
        public var method: String
        /// The request target: a path with its query, an absolute URL (a request to a proxy),
        /// or `host:port` (CONNECT).
        public var path: String
        /// The headers, in order, names as sent.
        public var headers: [(name: String, value: String)]
        /// The body.
        public var body: Data
        /// When it arrived.
        public var time: ContinuousClock.Instant

        /// The first value of header `name` (any case).
        public func header(_ name: String) -> String? {
            headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }

        /// The Authorization header.
        public var authorization: String? { header("Authorization") }
    }

    /// Answers one request.
    public typealias Handler = @Sendable (Request) async -> Response

    /// The port it listens on, on 127.0.0.1.
    public let port: Int
    /// "http", or "https" when it presents a certificate.
    public let scheme: String
    /// The PEM file of the authority a client must trust (HTTPS only).
    public let authorityPath: String?
    /// `SCHEME://127.0.0.1:PORT`.
    public var endpoint: String { "\(scheme)://127.0.0.1:\(port)" }
    /// `127.0.0.1:PORT`.
    public var host: String { "127.0.0.1:\(port)" }

    private let state: State
    private let listener: Channel

    private init(port: Int, scheme: String, authorityPath: String?, state: State, listener: Channel) {
        self.port = port
        self.scheme = scheme
        self.authorityPath = authorityPath
        self.state = state
        self.listener = listener
    }

    /// Runs `body` with a server answering `responses` in order (the last repeats), stopping it
    /// afterwards. With `tls`, it speaks HTTPS with that identity.
    public static func with<T>(_ responses: [Response], tls: TLSIdentity? = nil,
                               _ body: (ScriptedServer) async throws -> T) async throws -> T {
        let script = Script(responses.isEmpty ? [Response(status: 200)] : responses)
        return try await with(tls: tls, handler: { _ in script.next() }, body)
    }

    /// Runs `body` with a server answering each request with `handler`, stopping it afterwards.
    public static func with<T>(tls: TLSIdentity? = nil, handler: @escaping Handler,
                               _ body: (ScriptedServer) async throws -> T) async throws -> T {
        let server = try await start(tls: tls, handler: handler)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// The requests seen so far, in arrival order.
    public func received() -> [Request] { state.requests() }

    /// The requests seen so far as dictionaries: "method", "path", "headers" (name → value).
    public func requests() -> [[String: Any]] {
        received().map { request in
            var headers: [String: String] = [:]
            for (name, value) in request.headers { headers[name] = value }
            return ["method": request.method, "path": request.path, "headers": headers]
        }
    }

    // MARK: Running

    private static func start(tls: TLSIdentity?, handler: @escaping Handler) async throws -> ScriptedServer {
        let state = State()
        var sslContext: NIOSSLContext?
        var authorityPath: String?
        if let tls {
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(tls.certificatePEM.utf8), format: .pem))],
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(tls.privateKeyPEM.utf8), format: .pem)))
            sslContext = try NIOSSLContext(configuration: configuration)
            let path = NSTemporaryDirectory() + "scripted-ca-\(UUID().uuidString).pem"
            try tls.authorityPEM.write(toFile: path, atomically: true, encoding: .utf8)
            authorityPath = path
        }
        let context = sslContext
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context)) }
                    let connection = Connection(state: state, handler: handler)
                    try channel.pipeline.syncOperations.addHandler(connection)
                    try Connection.addHTTPHandlers(to: channel, before: connection)
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = listener.localAddress?.port else {
            try? await listener.close()
            throw StartError(description: "the scripted server has no port after binding 127.0.0.1:0")
        }
        state.track(listener)
        return ScriptedServer(port: port, scheme: tls == nil ? "http" : "https", authorityPath: authorityPath, state: state, listener: listener)
    }

    /// Stops listening and closes every connection.
    private func stop() async {
        for channel in state.stop() { try? await channel.close() }
        if let authorityPath { try? FileManager.default.removeItem(atPath: authorityPath) }
    }

    /// Why the server did not start.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The scripted answers, handed out in order; the last repeats.
    final class Script: @unchecked Sendable {
        private let lock = NSLock()
        private let responses: [Response]
        private var index = 0

        init(_ responses: [Response]) { self.responses = responses }

        func next() -> Response {
            lock.withLock {
                defer { index += 1 }
                return responses[min(index, responses.count - 1)]
            }
        }
    }

    /// The log and the open channels, shared by the connections.
    final class State: @unchecked Sendable {
        private let lock = NSLock()
        private var log: [Request] = []
        private var channels: [ObjectIdentifier: Channel] = [:]
        private var stopped = false

        func record(_ request: Request) { lock.withLock { log.append(request) } }
        func requests() -> [Request] { lock.withLock { log } }

        /// Keeps `channel` to close at the end; closes it at once when the server has stopped.
        func track(_ channel: Channel) {
            let late = lock.withLock { () -> Bool in
                if stopped { return true }
                channels[ObjectIdentifier(channel)] = channel
                return false
            }
            if late { channel.close(promise: nil) }
        }

        func forget(_ channel: Channel) { lock.withLock { _ = channels.removeValue(forKey: ObjectIdentifier(channel)) } }

        /// Marks the server stopped and hands over the channels to close.
        func stop() -> [Channel] {
            lock.withLock {
                stopped = true
                defer { channels = [:] }
                return Array(channels.values)
            }
        }
    }

    /// One connection: gathers each request, asks the handler (off the event loop), answers.
    final class Connection: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let state: State
        private let handler: Handler
        private var head: HTTPRequestHead?
        private var body = Data()

        init(state: State, handler: @escaping Handler) {
            self.state = state
            self.handler = handler
        }

        static let httpHandlerNames = ["scripted-encoder", "scripted-decoder", "scripted-pipeline", "scripted-errors"]

        /// HTTP/1.1 in front of `connection`, by name so a CONNECT can start them afresh.
        static func addHTTPHandlers(to channel: Channel, before connection: Connection) throws {
            let sync = channel.pipeline.syncOperations
            try sync.addHandler(HTTPResponseEncoder(), name: httpHandlerNames[0], position: .before(connection))
            try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)), name: httpHandlerNames[1],
                                position: .before(connection))
            try sync.addHandler(HTTPServerPipelineHandler(), name: httpHandlerNames[2], position: .before(connection))
            // Bytes that are not HTTP (a TLS hello to a plain server) get a 400, as from any
            // plain server, and the connection closes.
            try sync.addHandler(HTTPServerProtocolErrorHandler(), name: httpHandlerNames[3], position: .before(connection))
        }

        func channelActive(context: ChannelHandlerContext) {
            state.track(context.channel)
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.forget(context.channel)
            context.fireChannelInactive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case let .head(requestHead):
                head = requestHead
                body = Data()
            case var .body(buffer):
                if let bytes = buffer.readBytes(length: buffer.readableBytes) { body.append(contentsOf: bytes) }
            case .end:
                guard let requestHead = head else { return }
                head = nil
                let request = Request(method: requestHead.method.rawValue, path: requestHead.uri,
                                      headers: requestHead.headers.map { ($0.name, $0.value) }, body: body, time: .now)
                state.record(request)
                let loop = context.eventLoop
                let bound = NIOLoopBound(context, eventLoop: loop)
                let handler = self.handler
                let asked = requestHead.isKeepAlive && requestHead.method != .CONNECT
                // On the connection's event loop, not the cooperative pool: a test that waits
                // synchronously for a child process holds a pool thread, and with two cores
                // a few such tests left the server unable to answer at all.
                Task(executorPreference: EventLoopTaskExecutor(loop)) {
                    let response = await handler(request)
                    // A scripted "Connection: close" ends the connection after the answer, short
                    // body or not (a body that breaks off, for the client).
                    let keepAlive = asked && response.headers.first { $0.key.lowercased() == "connection" }?.value.lowercased() != "close"
                    if response.delay > .zero { try? await Task.sleep(for: response.delay) }
                    loop.execute {
                        let context = bound.value
                        if response.drop {
                            context.close(promise: nil)
                            return
                        }
                        let tunnel = request.method == "CONNECT" && response.status == 200
                        let channel = context.channel
                        let connection = self
                        Self.write(response, to: context, head: request.method == "HEAD", keepAlive: keepAlive || tunnel) {
                            // After a CONNECT the decoder reads no more requests: a fresh set of
                            // HTTP handlers reads what comes through the tunnel.
                            guard tunnel else { return }
                            let removals = Self.httpHandlerNames.map { channel.pipeline.syncOperations.removeHandler(name: $0) }
                            EventLoopFuture.andAllSucceed(removals, on: channel.eventLoop).whenComplete { _ in
                                do { try Self.addHTTPHandlers(to: channel, before: connection) } catch { channel.close(promise: nil) }
                            }
                        }
                    }
                }
            }
        }

        private static func write(_ response: Response, to context: ChannelHandlerContext, head: Bool, keepAlive: Bool,
                                  then: @escaping @Sendable () -> Void = {}) {
            var headers = HTTPHeaders()
            for (name, value) in response.headers.sorted(by: { $0.key < $1.key }) { headers.add(name: name, value: value) }
            if headers.first(name: "Content-Length") == nil { headers.add(name: "Content-Length", value: String(response.body.count)) }
            headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
            let status = HTTPResponseStatus(statusCode: response.status)
            context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            if !head && !response.body.isEmpty {
                context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
            }
            let done = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
            if !keepAlive {
                let channel = context.channel
                done.whenComplete { _ in channel.close(promise: nil) }
            } else {
                done.whenSuccess { then() }
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            // A client that gave up (a TLS handshake it refused, a reset) ends its connection only.
            context.close(promise: nil)
        }
    }
}

/// Runs a task's jobs on a NIO event loop, so the scripted server answers even while every
/// cooperative thread of the test process is blocked waiting for a child.
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    private let loop: EventLoop

    init(_ loop: EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}
