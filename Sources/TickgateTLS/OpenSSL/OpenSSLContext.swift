import COpenSSL

/// An `SSL_CTX`: the only type here that owns one. Built once per
/// configuration and shared by its connections.
final class OpenSSLContext: @unchecked Sendable {
    let context: OpaquePointer
    let configuration: TLSConfiguration

    init(_ configuration: TLSConfiguration) throws(TLSError) {
        let isServer: Bool
        if case .server = configuration.role { isServer = true } else { isServer = false }
        guard let context = SSL_CTX_new(isServer ? TLS_server_method() : TLS_client_method()) else {
            throw TLSError(detail: "SSL_CTX_new failed: \(openSSLErrors())")
        }
        self.context = context
        self.configuration = configuration
        _ = tickgate_SSL_CTX_set_min_proto_version(context, tickgate_TLS1_2_VERSION())
        // A server's idle connections (most of them, in a fan-out) give their
        // buffers back: 54 -> 40 KiB per idle TLS connection in the idle bench.
        if isServer { tickgate_SSL_CTX_release_buffers(context) }
        switch configuration.role {
        case .client:
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw TLSError(detail: "cannot load the system's CA certificates: \(openSSLErrors())")
            }
            if let certificate = configuration.clientCertificate {
                try Self.use(certificate.chain, certificate.key, in: context)
            }
        case .server(let chain, let key):
            try Self.use(chain, key, in: context)
            if configuration.alpnH2 { tickgate_SSL_CTX_require_alpn_h2(context) }
        }
        if let ca = configuration.trustedCAFile {
            guard SSL_CTX_load_verify_locations(context, ca, nil) == 1 else {
                throw TLSError(detail: "cannot load CA file \(ca): \(openSSLErrors())")
            }
            if isServer, configuration.requireClientCertificate {
                guard let names = SSL_load_client_CA_file(ca) else {
                    throw TLSError(detail: "no CA certificate in \(ca): \(openSSLErrors())")
                }
                SSL_CTX_set_client_CA_list(context, names)  // the context owns the list
                SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
            }
        } else if isServer, configuration.requireClientCertificate {
            throw TLSError(detail: "mutual TLS needs the CA file client certificates chain to")
        }
    }

    private static func use(_ chain: String, _ key: String, in context: OpaquePointer) throws(TLSError) {
        guard SSL_CTX_use_certificate_chain_file(context, chain) == 1 else {
            throw TLSError(detail: "cannot load certificate chain \(chain): \(openSSLErrors())")
        }
        guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else {
            throw TLSError(detail: "cannot load private key \(key): \(openSSLErrors())")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw TLSError(detail: "private key \(key) does not match certificate \(chain): \(openSSLErrors())")
        }
    }

    deinit { SSL_CTX_free(context) }
}

/// OpenSSL's queued errors as text (and the queue cleared).
func openSSLErrors() -> String {
    var messages: [String] = []
    while true {
        let code = ERR_get_error()
        guard code != 0 else { break }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return messages.isEmpty ? "unknown error" : messages.joined(separator: "; ")
}
