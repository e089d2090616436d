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
        switch configuration.role {
        case .client:
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw TLSError(detail: "cannot load the system's CA certificates: \(openSSLErrors())")
            }
        case .server(let chain, let key):
            guard SSL_CTX_use_certificate_chain_file(context, chain) == 1 else {
                throw TLSError(detail: "cannot load certificate chain \(chain): \(openSSLErrors())")
            }
            guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else {
                throw TLSError(detail: "cannot load private key \(key): \(openSSLErrors())")
            }
        }
        if let ca = configuration.trustedCAFile {
            guard SSL_CTX_load_verify_locations(context, ca, nil) == 1 else {
                throw TLSError(detail: "cannot load CA file \(ca): \(openSSLErrors())")
            }
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
