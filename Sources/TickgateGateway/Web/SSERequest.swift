import TickgateHTTP2
import TickgateModel

/// A Server-Sent Events request, `GET /v1/ticks?symbols=BTC-USD,ETH-*&…`,
/// read into the subscription it asks for. Pure.
///
/// Parameters: `symbols` (required; symbols or patterns, comma-separated),
/// `venue`, `snapshot`, `max_rate`, `lossless`, `since_time_ms`,
/// `on_missing` (`earliest` or `live`), `resume` (a resume token), and
/// `api_key`. The `Last-Event-ID` header (what `EventSource` sends when it
/// reconnects) is a resume token too, and wins over `resume`. Resume
/// covers the symbols named in `symbols`; patterns go on live. Parameters
/// starting with `_` are ignored (cache busters); any other is an error.
struct SSERequest: Equatable {
    /// Why a request is refused (HTTP 400).
    struct Refusal: Error, Equatable, ExpressibleByStringLiteral, ExpressibleByStringInterpolation {
        let reason: String
        init(stringLiteral value: String) { reason = value }
        init(_ reason: String) { self.reason = reason }
    }

    var subscribe: SubscribeRequest
    /// The exact symbols of `symbols` (the ones a resume token covers).
    var named: [String]
    var apiKey: String?

    /// The `authorization` to admit the stream with: the header, or else
    /// the `api_key` parameter as a bearer token.
    func authorization(header: String?) -> String? {
        header ?? apiKey.map { "Bearer " + $0 }
    }

    static func parse(query: Substring, lastEventID: String?) -> Result<SSERequest, Refusal> {
        var symbols: [String]? = nil
        var request = SubscribeRequest(requestID: 1, symbols: [])
        var resume: String? = nil
        var apiKey: String? = nil
        for item in query.split(separator: "&") where !item.isEmpty {
            let (rawName, rawValue) = item.firstIndex(of: "=").map { (item[..<$0], item[item.index(after: $0)...]) } ?? (item, "")
            guard let name = percentDecoded(rawName), let value = percentDecoded(rawValue) else {
                return .failure("malformed percent-encoding in the query")
            }
            switch name {
            case "symbols":
                symbols = value.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
            case "venue":
                request.venue = value
            case "snapshot":
                guard let flag = flag(value) else { return .failure("snapshot must be true or false") }
                request.snapshot = flag
            case "lossless":
                guard let flag = flag(value) else { return .failure("lossless must be true or false") }
                request.lossless = flag
            case "max_rate":
                guard let rate = UInt32(value) else { return .failure("max_rate must be a whole number of ticks per second") }
                request.maxRate = rate
            case "since_time_ms":
                guard let time = Int64(value), time >= 0 else { return .failure("since_time_ms must be Unix time in milliseconds") }
                request.sinceTimeMillis = time
            case "on_missing":
                switch value {
                case "earliest": request.liveWhenMissing = false
                case "live": request.liveWhenMissing = true
                default: return .failure("on_missing must be earliest or live")
                }
            case "resume":
                resume = value
            case "api_key":
                apiKey = value
            default:
                guard name.hasPrefix("_") else { return .failure(Refusal("unknown parameter \(name.prefix(40))")) }
            }
        }
        guard let symbols, !symbols.isEmpty else { return .failure("symbols is required (e.g. symbols=BTC-USD,ETH-*)") }
        request.symbols = symbols
        let named = symbols.filter { !$0.contains("*") }
        if let token = lastEventID.flatMap({ $0.isEmpty ? nil : $0 }) ?? resume {
            switch ResumeTokenText.parse(token) {
            case .success(let positions):
                let wanted = Set(named)
                request.resume = positions.filter { wanted.contains($0.symbol) }
            case .failure(let failure):
                return .failure(Refusal("invalid resume token: \(failure.reason)"))
            }
        }
        return .success(SSERequest(subscribe: request, named: named, apiKey: apiKey))
    }

    private static func flag(_ value: String) -> Bool? {
        switch value {
        case "true", "1", "": return true
        case "false", "0": return false
        default: return nil
        }
    }

    /// `application/x-www-form-urlencoded` decoding: `+` is a space.
    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(GRPCPercentEncoding.hexValue), let low = iterator.next().flatMap(GRPCPercentEncoding.hexValue) else { return nil }
                bytes.append(high << 4 | low)
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var value = Substring(self)
        while value.first == " " { value = value.dropFirst() }
        while value.last == " " { value = value.dropLast() }
        return String(value)
    }
}
