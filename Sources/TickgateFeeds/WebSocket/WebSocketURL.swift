/// `ws://host[:port]/path` or `wss://…`.
public struct WebSocketURL: Sendable, Equatable, CustomStringConvertible {
    public var secure: Bool
    public var host: String
    public var port: Int
    public var path: String

    public init(parsing text: String) throws(FeedError) {
        let secure: Bool
        let rest: Substring
        if text.hasPrefix("wss://") {
            secure = true
            rest = text.dropFirst(6)
        } else if text.hasPrefix("ws://") {
            secure = false
            rest = text.dropFirst(5)
        } else {
            throw .invalidURL(text, "must start with ws:// or wss://")
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        let path = rest.dropFirst(authority.count)
        var host = String(authority)
        var port = secure ? 443 : 80
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            host = String(authority[..<colon])
            guard let parsed = Int(authority[authority.index(after: colon)...]), (1...65535).contains(parsed) else {
                throw .invalidURL(text, "bad port")
            }
            port = parsed
        }
        guard !host.isEmpty else { throw .invalidURL(text, "no host") }
        self.secure = secure
        self.host = host
        self.port = port
        self.path = path.isEmpty ? "/" : (path.hasPrefix("?") ? "/" + path : String(path))
    }

    public var description: String { "\(secure ? "wss" : "ws")://\(host):\(port)\(path)" }
}

public enum FeedError: Error, CustomStringConvertible, Equatable {
    case invalidURL(String, String)
    case upgradeRefused(String)

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason): return "invalid feed URL \(url): \(reason)"
        case .upgradeRefused(let url): return "\(url) did not accept the WebSocket upgrade"
        }
    }
}
