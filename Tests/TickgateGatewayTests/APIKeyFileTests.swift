import Foundation
import Testing
@testable import TickgateGateway
import TickgateModel
import TickgateTLS

/// The keys file: its documented format, and a clear error (never the key)
/// for everything else.
struct APIKeyFileTests {
    static func parse(_ text: String) throws(AccessError) -> [APIKeyFile.Key] {
        try APIKeyFile.parse(Data(text.utf8), source: "keys.json")
    }

    @Test func theDocumentedFormat() throws {
        let keys = try Self.parse("""
            {"keys": [
              {"name": "web-app", "sha256": "\(SHA256.hex("web-app-secret-0123456789"))",
               "subscribe": ["*-USD", "BTC-*"],
               "limits": {"connections": 10, "streams": 100, "subscriptions": 500, "requests_per_second": 20}},
              {"name": "adapter", "key": "adapter-secret-0123456789",
               "publish": {"venues": ["binance"], "symbols": ["*"]}}
            ]}
            """)
        #expect(keys.map(\.name) == ["web-app", "adapter"])
        #expect(keys[0].digest == SHA256.hash("web-app-secret-0123456789"))
        #expect(keys[0].rights == AccessRights(
            subscribe: [.quote("USD"), .base("BTC")],
            limits: KeyLimits(connections: 10, streams: 100, subscriptions: 500, requestsPerSecond: 20)))
        #expect(keys[1].digest == SHA256.hash("adapter-secret-0123456789"))
        #expect(keys[1].rights == AccessRights(subscribe: [], publish: PublishRight(venues: ["binance"], symbols: [.all])))
    }

    @Test(arguments: [
        ("[]", "expected {\"keys\": [...]}"),
        ("{\"keys\": [{\"sha256\": \"00\"}]}", "\"name\" must be a non-empty string"),
        ("{\"keys\": [{\"name\": \"a\"}]}", "give exactly one of \"sha256\""),
        ("{\"keys\": [{\"name\": \"a\", \"sha256\": \"xyz\"}]}", "\"sha256\" must be 64 hex digits"),
        ("{\"keys\": [{\"name\": \"a\", \"key\": \"short\"}]}", "at least 16 characters"),
        ("{\"keys\": [{\"name\": \"a\", \"key\": \"0123456789abcdef\", \"subscribes\": []}]}", "unknown field \"subscribes\""),
        ("{\"keys\": [{\"name\": \"a\", \"key\": \"0123456789abcdef\", \"limits\": {\"stream\": 1}}]}", "unknown field \"stream\""),
        ("{\"keys\": [{\"name\": \"a\", \"key\": \"0123456789abcdef\", \"limits\": {\"streams\": 0}}]}", "must be a positive integer"),
        ("{\"keys\": [{\"name\": \"a\", \"key\": \"0123456789abcdef\", \"subscribe\": [\"B*C\"]}]}", "a pattern is BASE-*"),
        ("{\"keys\": [{\"name\": \"a\", \"key\": \"0123456789abcdef\"}, {\"name\": \"a\", \"key\": \"fedcba9876543210\"}]}", "appears twice"),
        ("{\"keys\": [{\"name\": \"a\", \"key\": \"0123456789abcdef\"}, {\"name\": \"b\", \"key\": \"0123456789abcdef\"}]}", "listed twice"),
        ("not json", "not valid JSON"),
    ])
    func mistakesAreClearErrors(_ text: String, _ expected: String) {
        do {
            _ = try Self.parse(text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.description.contains(expected), "\(error)")
            #expect(!error.description.contains("0123456789abcdef"), "a key is never repeated")
        }
    }

    @Test(arguments: [
        ("*", "*", true), ("*", "BTC-*", true), ("*", "BTC-USD", true),
        ("BTC-*", "BTC-USD", true), ("BTC-*", "BTC-*", true), ("BTC-*", "*", false), ("BTC-*", "*-USD", false),
        ("BTC-*", "ETH-BTC", false), ("*-USD", "ETH-USD", true), ("*-USD", "*-USD", true), ("*-USD", "BTC-*", false),
        ("BTC-USD", "BTC-USD", true), ("BTC-USD", "BTC-*", false), ("BTC-USD", "ETH-USD", false),
    ])
    func allowedPatternsCoverRequestedOnes(_ allowed: String, _ requested: String, _ covered: Bool) throws {
        #expect(try SymbolPattern(validating: allowed).covers(SymbolPattern(validating: requested)) == covered)
    }

    @Test func bearerTokens() {
        #expect(AccessControl.bearerToken("Bearer abc") == "abc")
        #expect(AccessControl.bearerToken("bearer  abc") == "abc")
        #expect(AccessControl.bearerToken("Basic abc") == nil)
        #expect(AccessControl.bearerToken("Bearer ") == nil)
    }

    @Test func theRequestRateRefillsOverTime() {
        var limiter = RequestRateLimiter(perSecond: 2, now: 0)
        #expect(limiter.take(now: 0) == nil)
        #expect(limiter.take(now: 0) == nil)
        #expect(limiter.take(now: 0) == 500, "the next token comes in 500 ms")
        #expect(limiter.take(now: 250_000_000) == 250)
        #expect(limiter.take(now: 500_000_000) == nil)
        #expect(limiter.take(now: 10_000_000_000) == nil, "refilled, but only up to the burst")
        #expect(limiter.take(now: 10_000_000_000) == nil)
        #expect(limiter.take(now: 10_000_000_000) != nil)
    }
}
