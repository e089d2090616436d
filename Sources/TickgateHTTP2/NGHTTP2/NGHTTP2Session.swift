import CNGHTTP2
package import NIOCore

/// What the session reports while it parses input. Calls arrive
/// synchronously from inside ``NGHTTP2Session/receive(_:)`` (and stream
/// closes also from ``NGHTTP2Session/send(into:)``); byte views are valid only
/// during the call.
package protocol NGHTTP2SessionDelegate: AnyObject {
    func sessionDidReceiveHeaders(_ headers: [HTTP2Header], streamID: Int32, endStream: Bool)
    func sessionDidReceiveData(_ bytes: UnsafeRawBufferPointer, streamID: Int32)
    /// END_STREAM arrived on a DATA frame (for HEADERS it comes with the headers).
    func sessionDidReceiveEndStream(streamID: Int32)
    func sessionDidCloseStream(streamID: Int32, errorCode: UInt32)
    /// The peer sent GOAWAY: it opens no more streams (`errorCode` and the
    /// debug data say why, when it is not a graceful one).
    func sessionDidReceiveGoAway(errorCode: UInt32, debug: String)
    /// The peer sent a PING (nghttp2 has queued the answer).
    func sessionDidReceivePing()
    /// The peer reset a stream (RST_STREAM).
    func sessionDidReceiveReset(streamID: Int32)
    /// The peer's SETTINGS (not an ACK): for a server, the first one
    /// completes the client's connection preface.
    func sessionDidReceiveSettings()
    /// A header list went past ``NGHTTP2Session/Settings/maxHeaderListSize``:
    /// the stream was reset and nothing of it was kept.
    func sessionDidRefuseHeaderList(streamID: Int32)
}

extension NGHTTP2SessionDelegate {
    package func sessionDidReceiveGoAway(errorCode: UInt32, debug: String) {}
    package func sessionDidReceivePing() {}
    package func sessionDidReceiveReset(streamID: Int32) {}
    package func sessionDidReceiveSettings() {}
    package func sessionDidRefuseHeaderList(streamID: Int32) {}
}

/// One nghttp2 session (server or client side): the only type that holds an
/// `nghttp2_session`. It lives on one event loop and is never shared.
///
/// Ownership follows swift-nio-ssl's `ByteBufferBIO`: the session retains
/// itself for nghttp2's `user_data` at setup and releases that exactly once
/// in ``close()``.
package final class NGHTTP2Session {
    package enum Role { case server, client }

    package struct Settings {
        package var maxConcurrentStreams: UInt32 = 1000
        package var initialWindowSize: UInt32 = 1 << 20
        /// Receive window of the whole connection.
        package var connectionWindowSize: Int32 = 1 << 24
        package var maxFrameSize: UInt32 = 1 << 14
        /// The owner says when received DATA was consumed (``consume``);
        /// until then no window goes back to the peer.
        package var manualWindowUpdates = false
        /// Largest header list taken from the peer (RFC 9113's size: name
        /// + value + 32 per field), advertised as
        /// SETTINGS_MAX_HEADER_LIST_SIZE and enforced while decoding: a
        /// stream past it is reset and what was decoded is dropped, so an
        /// HPACK bomb (a small block that decodes to megabytes) costs nothing.
        package var maxHeaderListSize: UInt32 = 16 * 1024
        package init() {}
    }

    var session: OpaquePointer?
    private var userData: Unmanaged<NGHTTP2Session>?
    /// The session's owner, called back only from inside ``receive(_:)``
    /// and ``send(into:)``, which only the owner calls: it outlives them.
    /// Not `weak`: a weak reference would move the owner's reference count
    /// to a side table and make every retain of it (the gateway's
    /// connection, once per stream per loop turn) take the slow path.
    package unowned(unsafe) var delegate: (any NGHTTP2SessionDelegate)?
    package let role: Role
    /// Server: the ids the client opened, to refuse HEADERS on an idle
    /// stream below them.
    var clientStreamIDs = ClientStreamIDs()
    /// Bytes of each header list being received, against ``maxHeaderListSize``.
    var headerBlockSizes: [Int32: Int] = [:]
    var maxHeaderListSize = 16 * 1024
    #if DEBUG
    var headerBlocks: [Int32: [HTTP2Header]] = [:]
    #else
    @exclusivity(unchecked) var headerBlocks: [Int32: [HTTP2Header]] = [:]
    #endif
    /// Inside nghttp2_session_mem_recv / mem_send (which call back into us).
    #if DEBUG
    private var callDepth = 0
    #else
    @exclusivity(unchecked) private var callDepth = 0
    #endif
    /// What the send in progress writes into (the caller's buffer, swapped
    /// in for the duration of ``send(into:)``).
    #if DEBUG
    var output = ByteBuffer()
    #else
    @exclusivity(unchecked) var output = ByteBuffer()
    #endif
    #if DEBUG
    private var closeRequested = false
    #else
    @exclusivity(unchecked) private var closeRequested = false
    #endif
    #if DEBUG
    var outbound: [Int32: HTTP2OutboundStream] = [:]
    #else
    @exclusivity(unchecked) var outbound: [Int32: HTTP2OutboundStream] = [:]
    #endif

    package init(role: Role, settings: Settings = Settings()) {
        self.role = role
        var callbacks: OpaquePointer?
        nghttp2_session_callbacks_new(&callbacks)
        defer { nghttp2_session_callbacks_del(callbacks) }
        Self.installCallbacks(callbacks)
        let me = Unmanaged.passRetained(self)
        self.userData = me
        // No closed streams are kept for the priority tree (gRPC uses no
        // priorities): less memory per connection, and it avoids an
        // assertion nghttp2 can hit when a GOAWAY closes streams that are
        // also on that list.
        var option: OpaquePointer?
        nghttp2_option_new(&option)
        defer { nghttp2_option_del(option) }
        nghttp2_option_set_no_closed_streams(option, 1)
        if settings.manualWindowUpdates { nghttp2_option_set_no_auto_window_update(option, 1) }
        var session: OpaquePointer?
        let rc: Int32
        switch role {
        case .server: rc = nghttp2_session_server_new2(&session, callbacks, me.toOpaque(), option)
        case .client: rc = nghttp2_session_client_new2(&session, callbacks, me.toOpaque(), option)
        }
        precondition(rc == 0 && session != nil, "nghttp2_session_new failed: \(rc)")
        self.session = session
        var entries = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), value: settings.maxConcurrentStreams),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: settings.initialWindowSize),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_FRAME_SIZE.rawValue), value: settings.maxFrameSize),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue), value: settings.maxHeaderListSize),
        ]
        self.maxHeaderListSize = Int(settings.maxHeaderListSize)
        if role == .client {
            entries.append(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0))
        }
        nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), entries, entries.count)
        nghttp2_session_set_local_window_size(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, settings.connectionWindowSize)
    }

    /// Frees the nghttp2 session and releases the `user_data` reference.
    /// Idempotent.
    package func close() {
        // Called from inside one of nghttp2's callbacks (a stream close
        // that makes the owner close the connection): freeing the session
        // under nghttp2's feet would be a use after free. It is freed when
        // the outermost receive or send returns.
        guard callDepth == 0 else {
            closeRequested = true
            return
        }
        guard let session else { return }
        nghttp2_session_del(session)
        self.session = nil
        outbound.removeAll()
        headerBlocks.removeAll()
        headerBlockSizes.removeAll()
        userData?.release()
        userData = nil
    }

    /// Feeds bytes read from the socket. Throws when the peer broke the
    /// protocol badly enough that the connection must close; milder errors
    /// make nghttp2 queue a GOAWAY or RST_STREAM that ``send(into:)`` writes.
    package func receive(_ buffer: ByteBuffer) throws(HTTP2SessionError) {
        guard let session else { return }
        callDepth += 1
        defer { leaveCall() }
        let rc = buffer.withUnsafeReadableBytes { raw -> Int in
            guard let base = raw.baseAddress else { return 0 }
            return nghttp2_session_mem_recv(session, base.assumingMemoryBound(to: UInt8.self), raw.count)
        }
        if rc < 0 {
            throw HTTP2SessionError(code: rc, detail: String(cString: nghttp2_strerror(Int32(rc))))
        }
    }

    /// Appends every frame nghttp2 is ready to send. Each chunk that
    /// `nghttp2_session_mem_send` returns is copied before the next call.
    package func send(into buffer: inout ByteBuffer) throws(HTTP2SessionError) {
        guard let session else { return }
        callDepth += 1
        swap(&output, &buffer)
        defer {
            swap(&output, &buffer)
            leaveCall()
        }
        while !closeRequested {
            var chunk: UnsafePointer<UInt8>? = nil
            let n = nghttp2_session_mem_send(session, &chunk)
            if n < 0 {
                throw HTTP2SessionError(code: n, detail: String(cString: nghttp2_strerror(Int32(n))))
            }
            guard n > 0, let chunk else { return }
            output.writeBytes(UnsafeRawBufferPointer(start: chunk, count: n))
        }
    }

    private func leaveCall() {
        callDepth -= 1
        if callDepth == 0, closeRequested {
            closeRequested = false
            close()
        }
    }

    /// With ``Settings/manualWindowUpdates``: `count` received bytes of the
    /// connection were consumed (its window goes back at once, so that one
    /// stream's slow reader does not stall the others).
    package func consumeConnection(_ count: Int) {
        guard let session, count > 0 else { return }
        _ = nghttp2_session_consume_connection(session, count)
    }

    /// With ``Settings/manualWindowUpdates``: `count` received bytes of
    /// stream `streamID` were consumed; its window goes back.
    package func consumeStream(_ streamID: Int32, _ count: Int) {
        guard let session, count > 0 else { return }
        _ = nghttp2_session_consume_stream(session, streamID, count)
    }

    /// Neither side wants the connection any more (GOAWAY exchanged, or a
    /// fatal error): close the socket once what is queued is written.
    package var isFinished: Bool {
        guard let session else { return true }
        return nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0
    }

    package var wantsWrite: Bool {
        guard let session else { return false }
        return nghttp2_session_want_write(session) != 0
    }
}
