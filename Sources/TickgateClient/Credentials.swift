/// How a client reaches and proves itself to a gateway: TLS (the gateway's
/// certificate verified against the system's CAs or `caFile`; a client
/// certificate for mutual TLS) and an API key, sent as
/// `authorization: Bearer <key>` on every call.
public struct Credentials: Sendable {
    public var apiKey: String?
    /// nil: h2c (plain text), for a gateway on this machine or a trusted network.
    public var tls: TLS?

    public struct TLS: Sendable, Equatable {
        /// Extra CA certificates (PEM) trusted besides the system's.
        public var caFile: String?
        /// The name the certificate must carry; default: the host connected to.
        public var serverName: String?
        /// For gateways that ask for client certificates (mutual TLS), PEM.
        public var certificateFile: String?
        public var privateKeyFile: String?

        public init(caFile: String? = nil, serverName: String? = nil, certificateFile: String? = nil, privateKeyFile: String? = nil) {
            self.caFile = caFile
            self.serverName = serverName
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
        }
    }

    public init(apiKey: String? = nil, tls: TLS? = nil) {
        self.apiKey = apiKey
        self.tls = tls
    }

    /// None: h2c and anonymous, for a local gateway without keys.
    public static let none = Credentials()
}
