/// How a client proves who it is to a gateway: an API key (sent as
/// `authorization: Bearer <key>` on every call) for gateways that have a
/// keys file.
public struct Credentials: Sendable {
    public var apiKey: String?

    public init(apiKey: String? = nil) {
        self.apiKey = apiKey
    }

    /// None: anonymous, for gateways without keys.
    public static let none = Credentials()
}
