import NIOCore
import Testing
@testable import TickgateTLS

/// A crash seen in the full test run (SIGSEGV in libcrypto): a TLS
/// connection closed after its peer went away flushed ciphertext from BIOs
/// that had been freed with the `SSL`.
@Suite struct OpenSSLConnectionTests {
    @Test func aClosedConnectionHasNoCiphertextAndTakesNone() throws {
        let connection = try OpenSSLConnection(context: OpenSSLContext(.client(serverName: "example.com")))
        // The ClientHello is waiting before the close.
        #expect(connection.handshake() == .wantsMore)
        var hello = ByteBuffer()
        connection.drainOutput(into: &hello)
        #expect(hello.readableBytes > 100)
        _ = connection.handshake()
        connection.close()
        var after = ByteBuffer()
        connection.drainOutput(into: &after)
        #expect(after.readableBytes == 0)
        [UInt8](repeating: 0x16, count: 64).withUnsafeBytes { connection.feed($0) }
        connection.shutdown()
        #expect(connection.handshake() == .failed("closed"))
        connection.close()
    }
}
