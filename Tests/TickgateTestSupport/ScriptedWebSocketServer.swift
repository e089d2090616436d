import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization
public import TickgateTLS

/// A local WebSocket server that plays a venue: connection `n` follows
/// `scripts[n]` (recorded messages, pings, disconnects), and everything the
/// client sent is kept for assertions.
public final class ScriptedWebSocketServer: Sendable {
    public enum Step: Sendable {
        /// Waits (up to 10 s) for a text frame from the client containing this.
        case awaitText(containing: String)
        case send(String)
        /// A WebSocket ping frame; the client's pong is counted.
        case ping
        /// Waits (up to 10 s) until this connection received a pong.
        case awaitPong
        case pause(milliseconds: Int)
        /// Sends a close frame and drops the connection.
        case close
    }

    private enum Upgrade: Sendable {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case refused
    }

    public let port: Int
    private let scripts: [[Step]]
    private let log = Mutex<(texts: [String], pongs: Int, connections: Int)>(([], 0, 0))
    private let serverChannel: NIOAsyncChannel<EventLoopFuture<Upgrade>, Never>
    private let acceptTask = Mutex<Task<Void, Never>?>(nil)

    public var receivedTexts: [String] { log.withLock { $0.texts } }
    public var pongs: Int { log.withLock { $0.pongs } }
    public var connections: Int { log.withLock { $0.connections } }

    /// With `tls`, the server speaks `wss://` (OpenSSL, server role).
    public static func start(scripts: [[Step]], tls: TLSContext? = nil) async throws -> ScriptedWebSocketServer {
        let channel: NIOAsyncChannel<EventLoopFuture<Upgrade>, Never> = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(try tls.makeHandler()) }
                    let upgrader = NIOTypedWebSocketServerUpgrader<Upgrade>(
                        shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                .websocket(try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel))
                            }
                        })
                    let configuration = NIOTypedHTTPServerUpgradeConfiguration<Upgrade>(
                        upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            channel.close(promise: nil)
                            return channel.eventLoop.makeSucceededFuture(.refused)
                        })
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
                        configuration: .init(upgradeConfiguration: configuration))
                }
            }
        let server = ScriptedWebSocketServer(channel: channel, scripts: scripts)
        server.startAccepting()
        return server
    }

    private init(channel: NIOAsyncChannel<EventLoopFuture<Upgrade>, Never>, scripts: [[Step]]) {
        self.serverChannel = channel
        self.scripts = scripts
        self.port = channel.channel.localAddress?.port ?? 0
    }

    private func startAccepting() {
        let task = Task<Void, Never> {
            _ = try? await serverChannel.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await upgrade in inbound {
                        let index = log.withLock { state -> Int in
                            defer { state.connections += 1 }
                            return state.connections
                        }
                        group.addTask {
                            guard case .websocket(let channel) = try await upgrade.get() else { return }
                            try? await self.serve(channel, script: index < self.scripts.count ? self.scripts[index] : [.close])
                        }
                    }
                }
            }
        }
        acceptTask.withLock { $0 = task }
    }

    private func serve(_ channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, script: [Step]) async throws {
        // What this connection received: steps wait on it, not on earlier connections.
        let mine = ConnectionTexts()
        try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await frame in inbound {
                        switch frame.opcode {
                        case .text:
                            let text = String(buffer: frame.unmaskedData)
                            mine.texts.withLock { $0.append(text) }
                            self.log.withLock { $0.texts.append(text) }
                        case .pong:
                            mine.pongs.withLock { $0 += 1 }
                            self.log.withLock { $0.pongs += 1 }
                        case .connectionClose:
                            mine.clientClosed.withLock { $0 = true }
                            return
                        default: break
                        }
                    }
                    mine.clientClosed.withLock { $0 = true }
                }
                var closed = false
                for step in script {
                    switch step {
                    case .awaitText(let fragment):
                        let deadline = ContinuousClock.now + .seconds(10)
                        while !mine.texts.withLock({ $0.contains { $0.contains(fragment) } }), ContinuousClock.now < deadline {
                            try await Task.sleep(for: .milliseconds(10))
                        }
                    case .send(let text):
                        try await outbound.write(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text)))
                    case .ping:
                        try await outbound.write(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "hi")))
                    case .awaitPong:
                        let deadline = ContinuousClock.now + .seconds(10)
                        while mine.pongs.withLock({ $0 }) == 0, ContinuousClock.now < deadline {
                            try await Task.sleep(for: .milliseconds(5))
                        }
                    case .pause(let ms):
                        try await Task.sleep(for: .milliseconds(ms))
                    case .close:
                        try? await outbound.write(WebSocketFrame(fin: true, opcode: .connectionClose, data: ByteBuffer(bytes: [0x03, 0xE8])))
                        closed = true
                    }
                    if closed { break }
                }
                if closed {
                    // Let the client read everything and close its side first:
                    // dropping the socket with frames unread could reset them away.
                    let deadline = ContinuousClock.now + .seconds(5)
                    while !mine.clientClosed.withLock({ $0 }), ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    group.cancelAll()
                } else {
                    try await group.next()
                }
            }
        }
    }

    public func stop() async {
        acceptTask.withLock { $0?.cancel() }
        try? await serverChannel.channel.close()
    }
}

/// Texts one connection received.
private final class ConnectionTexts: Sendable {
    let texts = Mutex<[String]>([])
    let pongs = Mutex(0)
    let clientClosed = Mutex(false)
}
