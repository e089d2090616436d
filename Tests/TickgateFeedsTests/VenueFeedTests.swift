import Logging
import Synchronization
import Testing
import TickgateFeeds
import TickgateModel
import TickgateTestSupport
import TickgateTLS

/// Each venue's feed against a local WebSocket server that replays messages
/// in the venue's documented shapes, including a heartbeat, a ping, a
/// disconnect, a malformed message and a sequence gap.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct VenueFeedTests {
    /// Runs `venue` against `scripts` until the server's scripts are used up,
    /// and returns every tick the feed queued.
    func run<Venue: VenueProtocol>(
        _ venue: Venue, symbols: [Symbol], scripts: [[ScriptedWebSocketServer.Step]]
    ) async throws -> (ticks: [Tick], stats: FeedStats.Snapshot, server: ScriptedWebSocketServer) {
        let server = try await ScriptedWebSocketServer.start(scripts: scripts)
        let queue = BoundedTickQueue(capacity: 10_000, logger: .quiet)
        var options = WebSocketFeed<Venue>.Options(url: "ws://127.0.0.1:\(server.port)/ws", symbols: symbols)
        options.initialBackoff = .milliseconds(20)
        options.maxConnections = scripts.count
        let feed = WebSocketFeed(venue: venue, options: options, queue: queue, logger: .quiet)
        try await feed.run()
        queue.close()
        var ticks: [Tick] = []
        while let tick = queue.take() { ticks.append(tick) }
        await server.stop()
        return (ticks, feed.stats.snapshot, server)
    }

    @Test func krakenV2() async throws {
        let ack = #"{"method":"subscribe","result":{"channel":"trade","snapshot":false,"symbol":"BTC/USD"},"success":true,"time_in":"2024-05-31T16:08:37.000000Z","time_out":"2024-05-31T16:08:37.000100Z","req_id":1}"#
        func trade(_ id: Int, _ price: String, _ side: String) -> String {
            #"{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"\#(side)","price":\#(price),"qty":0.00012345,"ord_type":"market","trade_id":\#(id),"timestamp":"2024-05-31T16:08:37.123456Z"}]}"#
        }
        let (ticks, stats, server) = try await run(KrakenProtocol(), symbols: [Symbol("BTC-USD")], scripts: [
            [.awaitText(containing: "\"channel\":\"trade\""), .send(ack), .send(#"{"channel":"heartbeat"}"#),
             .send(#"{"channel":"status","type":"update","data":[{"system":"online","version":"2.0.0"}]}"#),
             .send(trade(100, "67000.123456789", "buy")), .send(trade(101, "67000.1", "sell")),
             .send("{not json"), .send(trade(104, "66999.9", "buy")), .ping, .awaitPong, .close],
            // After the reconnect the venue repeats trade 104: it must not be published twice.
            [.awaitText(containing: "\"channel\":\"trade\""), .send(ack), .send(trade(104, "66999.9", "buy")),
             .send(trade(105, "67001", "sell")), .close],
        ])
        #expect(ticks.map(\.tradeID) == ["100", "101", "104", "105"])
        #expect(ticks.map(\.sequence) == [1, 2, 3, 4], "per (venue, symbol), across the reconnect")
        #expect(ticks[0].price.description == "67000.123456789", "JSON number read exactly")
        #expect(ticks[0].size == ExactDecimal(mantissa: 12_345, exponent: -8))
        #expect(ticks[0].side == .buy && ticks[1].side == .sell)
        #expect(ticks[0].symbol == "BTC-USD" && ticks[0].venue == "kraken")
        #expect(ticks[0].venueTimeNanos == 1_717_171_717_123_456_000)
        #expect(stats.gaps == 1 && stats.missing == 2, "102 and 103 never came")
        #expect(stats.malformed == 1)
        #expect(stats.duplicates == 1)
        #expect(stats.reconnects == 1)
        #expect(stats.subscriptions == 2)
        #expect(server.pongs == 1, "the WebSocket ping was answered")
        #expect(server.receivedTexts.filter { $0.contains(#""symbol":["BTC/USD"]"#) }.count == 2, "subscribed again after reconnecting")
    }

    @Test func binanceTradeAndBookTicker() async throws {
        let trade = #"{"stream":"btcusdt@trade","data":{"e":"trade","E":1704067200093,"s":"BTCUSDT","t":3359547372,"p":"42283.58000000","q":"0.00106000","T":1704067200092,"m":true,"M":true}}"#
        let next = #"{"stream":"btcusdt@trade","data":{"e":"trade","E":1704067200095,"s":"BTCUSDT","t":3359547375,"p":"42283.59000000","q":"0.1","T":1704067200095,"m":false,"M":true}}"#
        let book = #"{"stream":"btcusdt@bookTicker","data":{"u":400900217,"s":"BTCUSDT","b":"42283.58000000","B":"31.21000000","a":"42283.59000000","A":"40.66000000"}}"#
        let (ticks, stats, server) = try await run(
            BinanceProtocol(streams: [.trade, .bookTicker]), symbols: [Symbol("BTC-USDT")], scripts: [
                [.awaitText(containing: "SUBSCRIBE"), .send(#"{"result":null,"id":1}"#), .send(trade), .send(book),
                 .send(next), .send(#"{"error":{"code":2,"msg":"Invalid request: unknown stream"},"id":2}"#),
                 .send(#"{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT"}}"#), .close],
            ])
        #expect(server.receivedTexts.first?.contains(#""btcusdt@trade","btcusdt@bookTicker""#) == true)
        #expect(ticks.count == 4)
        #expect(ticks[0].price.description == "42283.58000000" && ticks[0].side == .sell, "buyer was maker")
        #expect(ticks[0].tradeID == "3359547372" && ticks[0].venueTimeNanos == 1_704_067_200_092_000_000)
        #expect(ticks[1].side == .buy && ticks[1].price.description == "42283.58000000", "best bid")
        #expect(ticks[2].side == .sell && ticks[2].size.description == "40.66000000", "best ask")
        #expect(ticks[3].side == .buy)
        #expect(stats.gaps == 1 && stats.missing == 2)
        #expect(stats.venueErrors == 1 && stats.malformed == 1 && stats.subscriptions == 1)
    }

    @Test func coinbaseMatches() async throws {
        func match(_ type: String, _ id: Int, _ side: String) -> String {
            #"{"type":"\#(type)","trade_id":\#(id),"sequence":\#(id * 10),"maker_order_id":"ac928c66","taker_order_id":"132fb6ae","time":"2024-05-31T16:08:37.028459Z","product_id":"ETH-USD","size":"5.23512","price":"3765.13","side":"\#(side)"}"#
        }
        let (ticks, stats, server) = try await run(CoinbaseProtocol(), symbols: [Symbol("ETH-USD")], scripts: [
            [.awaitText(containing: "\"matches\""),
             .send(#"{"type":"subscriptions","channels":[{"name":"matches","product_ids":["ETH-USD"]},{"name":"heartbeat","product_ids":["ETH-USD"]}]}"#),
             .send(match("last_match", 9, "buy")),
             .send(#"{"type":"heartbeat","sequence":90,"last_trade_id":9,"product_id":"ETH-USD","time":"2024-05-31T16:08:37.0Z"}"#),
             .send(match("match", 10, "sell")), .send(match("match", 12, "buy")),
             .send(#"{"type":"error","message":"Failed to subscribe","reason":"BAD-PAIR is not a valid product"}"#),
             .send(#"{"type":"match","trade_id":"x"}"#), .close],
        ])
        #expect(server.receivedTexts.first?.contains(#""product_ids":["ETH-USD"]"#) == true)
        #expect(ticks.map(\.tradeID) == ["9", "10", "12"])
        #expect(ticks[0].side == .sell, "maker bought: the taker sold")
        #expect(ticks[1].side == .buy, "maker sold: the taker bought")
        #expect(ticks[1].price.description == "3765.13" && ticks[1].size.description == "5.23512")
        #expect(ticks[1].venueTimeNanos == 1_717_171_717_028_459_000)
        #expect(stats.gaps == 1 && stats.missing == 1)
        #expect(stats.venueErrors == 1 && stats.malformed == 1)
    }

    /// A self-signed certificate for 127.0.0.1/localhost, made with the
    /// openssl command for this test.
    static func makeCertificate(names: String = "DNS:localhost,IP:127.0.0.1") throws -> (cert: String, key: String) {
        let directory = "/tmp/tickgate-tls-\(UInt32.random(in: 0...UInt32.max))"
        let status = shell("mkdir -p \(directory) && openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=tickgate-test "
            + "-addext subjectAltName=\(names) -keyout \(directory)/key.pem -out \(directory)/cert.pem 2>/dev/null")
        guard status == 0 else { throw TLSError(detail: "openssl req failed (\(status))") }
        return ("\(directory)/cert.pem", "\(directory)/key.pem")
    }

    @Test func krakenOverTLS() async throws {
        let (cert, key) = try Self.makeCertificate()
        let serverTLS = try TLSContext(.init(role: .server(certificateChainFile: cert, privateKeyFile: key)))
        let ack = #"{"method":"subscribe","result":{"channel":"trade","symbol":"BTC/USD"},"success":true,"req_id":1}"#
        let trade = #"{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":67000.5,"qty":1.25,"ord_type":"limit","trade_id":7,"timestamp":"2024-05-31T16:08:37.1Z"}]}"#
        let server = try await ScriptedWebSocketServer.start(
            scripts: [[.awaitText(containing: "subscribe"), .send(ack), .send(trade), .ping, .awaitPong, .close]],
            tls: serverTLS)
        let queue = BoundedTickQueue(capacity: 100, logger: .quiet)
        var options = WebSocketFeed<KrakenProtocol>.Options(url: "wss://localhost:\(server.port)/v2", symbols: [Symbol("BTC-USD")])
        options.maxConnections = 1
        options.trustedCAFile = cert
        let feed = WebSocketFeed(venue: KrakenProtocol(), options: options, queue: queue, logger: .quiet)
        try await feed.run()
        queue.close()
        let tick = try #require(queue.take())
        #expect(tick.price.description == "67000.5" && tick.tradeID == "7")
        #expect(server.pongs == 1)
        #expect(feed.stats.lastError == nil)
        await server.stop()
    }

    @Test func untrustedCertificateIsRefused() async throws {
        let (cert, key) = try Self.makeCertificate()
        let serverTLS = try TLSContext(.init(role: .server(certificateChainFile: cert, privateKeyFile: key)))
        let server = try await ScriptedWebSocketServer.start(scripts: [[.awaitText(containing: "subscribe"), .close]], tls: serverTLS)
        let queue = BoundedTickQueue(capacity: 100, logger: .quiet)
        var options = WebSocketFeed<KrakenProtocol>.Options(url: "wss://localhost:\(server.port)/v2", symbols: [Symbol("BTC-USD")])
        options.maxConnections = 1  // no CA file: the self-signed certificate must not be trusted
        let feed = WebSocketFeed(venue: KrakenProtocol(), options: options, queue: queue, logger: .quiet)
        try await feed.run()
        #expect(feed.stats.lastError?.contains("certificate verification failed") == true, "\(feed.stats.lastError ?? "no error")")
        #expect(feed.stats.snapshot.subscriptions == 0)
        await server.stop()
    }

    @Test func certificateForAnotherHostIsRefused() async throws {
        // Trusted (it is its own CA here) but issued to another name.
        let (cert, key) = try Self.makeCertificate(names: "DNS:feed.example.com")
        let serverTLS = try TLSContext(.init(role: .server(certificateChainFile: cert, privateKeyFile: key)))
        let server = try await ScriptedWebSocketServer.start(scripts: [[.close]], tls: serverTLS)
        let queue = BoundedTickQueue(capacity: 100, logger: .quiet)
        var options = WebSocketFeed<KrakenProtocol>.Options(url: "wss://localhost:\(server.port)/v2", symbols: [Symbol("BTC-USD")])
        options.maxConnections = 1
        options.trustedCAFile = cert
        let feed = WebSocketFeed(venue: KrakenProtocol(), options: options, queue: queue, logger: .quiet)
        try await feed.run()
        #expect(feed.stats.lastError?.contains("certificate verification failed: hostname mismatch") == true,
                "\(feed.stats.lastError ?? "no error")")
        await server.stop()
    }
}

@Suite struct FeedPartsTests {
    @Test func webSocketURLs() throws {
        #expect(try WebSocketURL(parsing: "wss://stream.binance.com:9443/stream").description == "wss://stream.binance.com:9443/stream")
        #expect(try WebSocketURL(parsing: "ws://127.0.0.1:8080").path == "/")
        #expect(try WebSocketURL(parsing: "wss://ws-feed.exchange.coinbase.com").port == 443)
        #expect(throws: FeedError.self) { try WebSocketURL(parsing: "http://x") }
        #expect(throws: FeedError.self) { try WebSocketURL(parsing: "ws://x:99999") }
    }

    @Test func fullQueueMakesThePublisherWaitNotDrop() async throws {
        let queue = BoundedTickQueue(capacity: 2, logger: .quiet)
        let tick = Tick(symbol: "BTC-USD", venue: "t", price: .zero, size: .zero, sequence: 1)
        await queue.put(tick)
        await queue.put(tick)
        let third = Task { await queue.put(tick) }
        try await Task.sleep(for: .milliseconds(100))
        #expect(queue.depth == 3 && queue.fullEpisodes == 1, "the third waits")
        let taken = await withCheckedContinuation { continuation in
            Thread1.run { continuation.resume(returning: queue.take()) }
        }
        #expect(taken != nil)
        await third.value
        queue.close()
        var rest = 0
        while queue.take() != nil { rest += 1 }
        #expect(rest == 2, "nothing dropped")
    }
}

import TickgateKafka

/// Runs blocking work off the cooperative pool.
enum Thread1 {
    static func run(_ body: @escaping @Sendable () -> Void) {
        _ = DedicatedThread(name: "test", body)
    }
}

#if canImport(Glibc)
import Glibc
#endif

func shell(_ command: String) -> Int32 {
    system(command)
}
