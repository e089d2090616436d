import Foundation
import TickgateModel
import TickgateTLS

/// The keys file (`tickgate serve --api-keys FILE`), JSON:
///
///     {"keys": [
///       {"name": "web-app", "sha256": "<64 hex digits>",
///        "subscribe": ["*-USD", "BTC-*"],
///        "limits": {"connections": 10, "streams": 100, "subscriptions": 500, "requests_per_second": 20}},
///       {"name": "binance-adapter", "sha256": "...",
///        "publish": {"venues": ["binance"], "symbols": ["*"]}}
///     ]}
///
/// `sha256` is the key's SHA-256 in hex (`tickgate keys new` makes a key
/// and its line); `key` (the key itself) is accepted for local use. A key
/// without `subscribe` subscribes to nothing; without `publish` it does not
/// publish. Unknown fields are errors, so a typo cannot drop a limit.
enum APIKeyFile {
    struct Key {
        let name: String
        let digest: [UInt8]
        let rights: AccessRights
    }

    static func load(path: String) throws(AccessError) -> [Key] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw AccessError("cannot read keys file \(path): \(error.localizedDescription)")
        }
        return try parse(data, source: path)
    }

    static func parse(_ data: Data, source: String) throws(AccessError) -> [Key] {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw AccessError("keys file \(source) is not valid JSON")
        }
        guard let object = root as? [String: Any], let entries = object["keys"] as? [Any], object.count == 1 else {
            throw AccessError("keys file \(source): expected {\"keys\": [...]}")
        }
        var keys: [Key] = []
        var names: Set<String> = []
        var digests: Set<[UInt8]> = []
        for (index, entry) in entries.enumerated() {
            let key = try parseKey(entry, where: "keys file \(source), key \(index + 1)")
            guard names.insert(key.name).inserted else { throw AccessError("keys file \(source): name \"\(key.name)\" appears twice") }
            guard digests.insert(key.digest).inserted else { throw AccessError("keys file \(source): key \"\(key.name)\" is listed twice") }
            keys.append(key)
        }
        return keys
    }

    private static func parseKey(_ entry: Any, where place: String) throws(AccessError) -> Key {
        guard let fields = entry as? [String: Any] else { throw AccessError("\(place): expected an object") }
        try onlyKnown(fields, ["name", "sha256", "key", "subscribe", "publish", "limits"], place)
        guard let name = fields["name"] as? String, !name.isEmpty, name.count <= 128 else {
            throw AccessError("\(place): \"name\" must be a non-empty string")
        }
        let place = "\(place) (\"\(name)\")"
        let digest: [UInt8]
        switch (fields["sha256"], fields["key"]) {
        case (let hex as String, nil):
            guard let bytes = hexBytes(hex), bytes.count == 32 else { throw AccessError("\(place): \"sha256\" must be 64 hex digits") }
            digest = bytes
        case (nil, let plain as String):
            guard plain.utf8.count >= 16 else { throw AccessError("\(place): \"key\" must be at least 16 characters") }
            digest = SHA256.hash(plain)
        default:
            throw AccessError("\(place): give exactly one of \"sha256\" (recommended) or \"key\" as a string")
        }
        let subscribe = try patterns(fields["subscribe"] ?? [Any](), "subscribe", place)
        var publish: PublishRight? = nil
        if let value = fields["publish"] {
            guard let right = value as? [String: Any] else { throw AccessError("\(place): \"publish\" must be an object") }
            try onlyKnown(right, ["venues", "symbols"], "\(place), publish")
            let venues = try strings(right["venues"] ?? ["*"], "publish.venues", place)
            publish = PublishRight(
                venues: venues.contains("*") ? nil : Set(venues),
                symbols: try patterns(right["symbols"] ?? ["*"], "publish.symbols", place))
        }
        var limits = KeyLimits()
        if let value = fields["limits"] {
            guard let given = value as? [String: Any] else { throw AccessError("\(place): \"limits\" must be an object") }
            try onlyKnown(given, ["connections", "streams", "subscriptions", "requests_per_second"], "\(place), limits")
            limits.connections = try positive(given["connections"], "limits.connections", place)
            limits.streams = try positive(given["streams"], "limits.streams", place)
            limits.subscriptions = try positive(given["subscriptions"], "limits.subscriptions", place)
            limits.requestsPerSecond = try positive(given["requests_per_second"], "limits.requests_per_second", place)
        }
        return Key(name: name, digest: digest, rights: AccessRights(subscribe: subscribe, publish: publish, limits: limits))
    }

    private static func onlyKnown(_ fields: [String: Any], _ known: Set<String>, _ place: String) throws(AccessError) {
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw AccessError("\(place): unknown field \"\(unknown.prefix(64))\" (known: \(known.sorted().joined(separator: ", ")))")
        }
    }

    private static func strings(_ value: Any, _ field: String, _ place: String) throws(AccessError) -> [String] {
        guard let list = value as? [String] else { throw AccessError("\(place): \"\(field)\" must be a list of strings") }
        return list
    }

    private static func patterns(_ value: Any, _ field: String, _ place: String) throws(AccessError) -> [SymbolPattern] {
        var parsed: [SymbolPattern] = []
        for text in try strings(value, field, place) {
            do {
                parsed.append(try SymbolPattern(validating: text))
            } catch {
                throw AccessError("\(place): \"\(field)\": \"\(text.prefix(64))\": \(error.reason)")
            }
        }
        return parsed
    }

    private static func positive(_ value: Any?, _ field: String, _ place: String) throws(AccessError) -> Int? {
        guard let value else { return nil }
        guard let number = value as? Int, number > 0 else {
            throw AccessError("\(place): \"\(field)\" must be a positive integer")
        }
        return number
    }

    private static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.lowercased().utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}

public struct AccessError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
}
