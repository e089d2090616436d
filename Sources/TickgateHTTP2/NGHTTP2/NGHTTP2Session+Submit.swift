import CNGHTTP2
import NIOCore

extension NGHTTP2Session {
    /// Server: response HEADERS; the body and trailers come from `body`.
    /// With `body == nil` the HEADERS frame ends the stream (gRPC's
    /// trailers-only response).
    package func submitResponse(streamID: Int32, headers: [HTTP2Header], body: HTTP2OutboundStream?) {
        guard let session else { return }
        withNameValues(headers) { nva, count in
            if let body {
                body.streamID = streamID
                outbound[streamID] = body
                var provider = dataProvider(for: body)
                _ = nghttp2_submit_response(session, streamID, nva, count, &provider)
            } else {
                _ = nghttp2_submit_response(session, streamID, nva, count, nil)
            }
        }
    }

    /// Client: a request whose body comes from `body`. Returns the stream
    /// id, or nil when the session cannot open another stream.
    /// With `body == nil` the HEADERS frame ends the request.
    package func submitRequest(headers: [HTTP2Header], body: HTTP2OutboundStream?) -> Int32? {
        guard let session else { return nil }
        return withNameValues(headers) { nva, count -> Int32? in
            guard let body else {
                let id = nghttp2_submit_request(session, nil, nva, count, nil, nil)
                return id > 0 ? id : nil
            }
            var provider = dataProvider(for: body)
            let id = nghttp2_submit_request(session, nil, nva, count, &provider, nil)
            guard id > 0 else { return nil }
            body.streamID = id
            outbound[id] = body
            return id
        }
    }

    /// Tells nghttp2 that `stream` has bytes (or its end) to send again.
    package func resume(_ stream: HTTP2OutboundStream) {
        guard let session, stream.deferred, !stream.closed else { return }
        stream.deferred = false
        _ = nghttp2_session_resume_data(session, stream.streamID)
    }

    package func submitReset(streamID: Int32, errorCode: HTTP2ErrorCode) {
        guard let session else { return }
        _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, errorCode.rawValue)
    }

    /// GOAWAY naming `lastStreamID`, the highest stream this side
    /// processed: streams above it were not, and the peer may retry them
    /// elsewhere. nghttp2 then refuses new streams by itself.
    /// With no `lastStreamID`, nghttp2's own: the last stream it processed.
    package func submitGoAway(lastStreamID: Int32? = nil, errorCode: HTTP2ErrorCode = .noError, debug: String = "") {
        guard let session else { return }
        let last = lastStreamID ?? nghttp2_session_get_last_proc_stream_id(session)
        var debugBytes = Array(debug.utf8)
        _ = debugBytes.withUnsafeMutableBufferPointer { buffer in
            nghttp2_submit_goaway(
                session, UInt8(NGHTTP2_FLAG_NONE.rawValue), last, errorCode.rawValue,
                buffer.baseAddress, buffer.count)
        }
    }

    /// A PING (the peer answers it with an ACK).
    package func submitPing() {
        guard let session else { return }
        _ = nghttp2_submit_ping(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil)
    }

    /// Client side: GOAWAY with the last stream id the peer started (none).
    package func terminate(errorCode: HTTP2ErrorCode = .noError) {
        guard let session else { return }
        _ = nghttp2_session_terminate_session(session, errorCode.rawValue)
    }

    private func dataProvider(for stream: HTTP2OutboundStream) -> nghttp2_data_provider {
        var provider = nghttp2_data_provider()
        provider.source.ptr = Unmanaged.passUnretained(stream).toOpaque()
        provider.read_callback = { session, streamID, buffer, length, dataFlags, source, _ in
            guard let pointer = source?.pointee.ptr, let dataFlags else {
                return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue)
            }
            let (count, trailers) = Unmanaged<HTTP2OutboundStream>.fromOpaque(pointer)._withUnsafeGuaranteedRef {
                $0.base64Body ? $0.readBase64(into: buffer, length: length, flags: dataFlags) : $0.read(length: length, flags: dataFlags)
            }
            if let trailers {
                withNameValues(trailers) { nva, n in _ = nghttp2_submit_trailer(session, streamID, nva, n) }
            }
            return count
        }
        return provider
    }
}

extension HTTP2OutboundStream {
    /// nghttp2's data-source read: says how much of `pending` goes into
    /// the next DATA frame, without copying it (`NGHTTP2_DATA_FLAG_NO_COPY`:
    /// the session's send-data callback writes the frame straight into the
    /// connection's out buffer). Returns the byte count (or
    /// `NGHTTP2_ERR_DEFERRED`) and, at the end, the trailers to submit.
    fileprivate func read(length: Int, flags: UnsafeMutablePointer<UInt32>) -> (Int, [HTTP2Header]?) {
        let n = min(length, pending.readableBytes)
        if n > 0 { flags.pointee |= NGHTTP2_DATA_FLAG_NO_COPY.rawValue }
        if pending.readableBytes == n {
            if finished {
                flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
                if let trailers {
                    flags.pointee |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
                    return (n, trailers)
                }
            } else if n == 0 {
                deferred = true
                return (Int(NGHTTP2_ERR_DEFERRED.rawValue), nil)
            }
        }
        return (n, nil)
    }

    /// The data-source read of a gRPC-Web text stream: base64 of what is
    /// pending, copied into nghttp2's frame buffer (whole 3-byte groups,
    /// except at the end of what is pending).
    fileprivate func readBase64(into buffer: UnsafeMutablePointer<UInt8>?, length: Int, flags: UnsafeMutablePointer<UInt32>) -> (Int, [HTTP2Header]?) {
        guard let buffer else { return (Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue), nil) }
        let available = pending.readableBytes
        var n = min(length / 4 * 3, available)
        if n < available { n -= n % 3 }
        let all = n == available
        if n > 0 {
            pending.withUnsafeReadableBytes { raw in
                Base64.encode(UnsafeRawBufferPointer(rebasing: raw[..<n]), into: UnsafeMutableRawPointer(buffer))
            }
            pending.moveReaderIndex(forwardBy: n)
            compactPending()
        }
        if all, finished {
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
        } else if n == 0 {
            // Nothing, or less than a group fits (a window of 1-3 bytes):
            // wait for the next resume.
            deferred = true
            return (Int(NGHTTP2_ERR_DEFERRED.rawValue), nil)
        }
        return (Base64.encodedLength(n), nil)
    }
}

/// Builds nghttp2's name/value array over one contiguous byte copy of the
/// headers; nghttp2 copies them during the submit call.
func withNameValues<R>(_ headers: [HTTP2Header], _ body: (UnsafePointer<nghttp2_nv>, Int) -> R) -> R {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count })
    var ranges: [(Int, Int, Int, Int)] = []
    for header in headers {
        let nameStart = bytes.count
        bytes.append(contentsOf: header.name.utf8)
        let valueStart = bytes.count
        bytes.append(contentsOf: header.value.utf8)
        ranges.append((nameStart, header.name.utf8.count, valueStart, header.value.utf8.count))
    }
    bytes.append(0)  // never empty, so the base address exists
    return bytes.withUnsafeMutableBufferPointer { raw in
        let base = raw.baseAddress!
        let nva = ranges.map { r in
            nghttp2_nv(name: base + r.0, value: base + r.2, namelen: r.1, valuelen: r.3, flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
        }
        return nva.withUnsafeBufferPointer { body($0.baseAddress!, $0.count) }
    }
}
