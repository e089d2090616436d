import COpenSSL
import NIOCore

/// One `SSL` with two memory BIOs: ciphertext in from the socket, ciphertext
/// out to the socket. The only type here that owns an `SSL`; it lives on
/// one event loop. `close` frees it exactly once. Bytes go straight between
/// OpenSSL and `ByteBuffer`s: no intermediate arrays.
final class OpenSSLConnection {
    private var ssl: OpaquePointer?
    /// Owned by `ssl`: freed with it, so every use checks `ssl` first.
    private let input: OpaquePointer   // network → OpenSSL
    private let output: OpaquePointer  // OpenSSL → network
    let context: OpenSSLContext

    enum Progress: Equatable {
        case done
        case wantsMore
        case failed(String)
    }

    init(context: OpenSSLContext) throws(TLSError) {
        guard let ssl = SSL_new(context.context) else { throw TLSError(detail: "SSL_new: \(openSSLErrors())") }
        guard let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError(detail: "BIO_new failed")
        }
        SSL_set_bio(ssl, input, output)  // the SSL owns both BIOs from here
        self.ssl = ssl
        self.input = input
        self.output = output
        self.context = context
        switch context.configuration.role {
        case .client(let serverName):
            _ = tickgate_SSL_set_tlsext_host_name(ssl, serverName)  // SNI
            guard SSL_set1_host(ssl, serverName) == 1 else {       // hostname verification
                throw TLSError(detail: "cannot verify host name \(serverName)")
            }
            if context.configuration.alpnH2 { _ = tickgate_SSL_offer_alpn_h2(ssl) }
            SSL_set_connect_state(ssl)
        case .server:
            SSL_set_accept_state(ssl)
        }
    }

    deinit { close() }

    func close() {
        guard let ssl else { return }
        SSL_free(ssl)
        self.ssl = nil
    }

    /// Ciphertext from the socket.
    func feed(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0, ssl != nil else { return }
        _ = BIO_write(input, bytes.baseAddress, Int32(bytes.count))
    }

    /// Ciphertext OpenSSL wants sent, appended to `out`. Nothing once
    /// closed: the BIOs went with the `SSL` (a close after the peer went
    /// away used to read a freed BIO here).
    func drainOutput(into out: inout ByteBuffer) {
        guard ssl != nil else { return }
        while case let pending = Int(BIO_ctrl_pending(output)), pending > 0 {
            let n = out.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { target in
                Int(max(0, BIO_read(output, target.baseAddress, Int32(clamping: target.count))))
            }
            guard n > 0 else { return }
        }
    }

    func handshake() -> Progress {
        guard let ssl else { return .failed("closed") }
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 { return .done }
        return progress(SSL_get_error(ssl, rc), verifying: true)
    }

    /// The protocol ALPN settled on ("h2"), or nil.
    var negotiatedProtocol: String? {
        guard let ssl else { return nil }
        var name = [CChar](repeating: 0, count: 32)
        let length = tickgate_SSL_alpn_selected(ssl, &name, UInt32(name.count))
        guard length > 0 else { return nil }
        return String(decoding: name.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Decrypts what is available into `out`.
    func read(into out: inout ByteBuffer) -> Progress {
        guard let ssl else { return .failed("closed") }
        while true {
            ERR_clear_error()
            var error: Int32 = 0
            _ = out.writeWithUnsafeMutableBytes(minimumWritableBytes: 16 * 1024) { target in
                let n = SSL_read(ssl, target.baseAddress, Int32(clamping: target.count))
                if n > 0 { return Int(n) }
                error = SSL_get_error(ssl, n)
                return 0
            }
            if error == 0 { continue }
            if error == SSL_ERROR_ZERO_RETURN { return .done }  // close_notify
            return progress(error, verifying: false)
        }
    }

    /// Encrypts `bytes` (the handshake must be done).
    func write(_ bytes: UnsafeRawBufferPointer) -> Progress {
        guard let ssl else { return .failed("closed") }
        var offset = 0
        while offset < bytes.count {
            ERR_clear_error()
            let n = SSL_write(ssl, bytes.baseAddress! + offset, Int32(clamping: bytes.count - offset))
            guard n > 0 else { return progress(SSL_get_error(ssl, n), verifying: false) }
            offset += Int(n)
        }
        return .done
    }

    func shutdown() {
        guard let ssl else { return }
        _ = SSL_shutdown(ssl)
    }

    private func progress(_ error: Int32, verifying: Bool) -> Progress {
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .wantsMore
        default:
            var detail = openSSLErrors()
            if verifying, let ssl {
                let result = SSL_get_verify_result(ssl)
                if result != X509_V_OK {
                    detail = "certificate verification failed: \(String(cString: X509_verify_cert_error_string(result)))"
                }
            }
            return .failed(detail)
        }
    }
}
