import CNGHTTP2
import NIOCore

extension NGHTTP2Session {
    /// nghttp2's callbacks: C functions that capture nothing and find the
    /// session through `user_data`.
    static func installCallbacks(_ callbacks: OpaquePointer?) {
        nghttp2_session_callbacks_set_on_begin_frame_callback(callbacks) { session, hd, userData in
            guard let session, let hd, let userData, UInt32(hd.pointee.type) == NGHTTP2_HEADERS.rawValue else { return 0 }
            let me = Unmanaged<NGHTTP2Session>.fromOpaque(userData).takeUnretainedValue()
            let id = hd.pointee.stream_id
            guard me.role == .server, id % 2 == 1 else { return 0 }
            if me.clientStreamIDs.isEnded(id) {
                // RFC 9113 §5.1: HEADERS after the client's END_STREAM (a
                // reused stream id, typically).
                _ = nghttp2_session_terminate_session(session, NGHTTP2_STREAM_CLOSED.rawValue)
            } else if !me.clientStreamIDs.headers(on: id) {
                // RFC 9113 §5.1.1: an idle stream below one already opened.
                _ = nghttp2_session_terminate_session(session, NGHTTP2_PROTOCOL_ERROR.rawValue)
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, userData in
            guard let frame, let userData else { return 0 }
            let me = Unmanaged<NGHTTP2Session>.fromOpaque(userData).takeUnretainedValue()
            me.headerBlocks[frame.pointee.hd.stream_id] = []
            me.headerBlockSizes[frame.pointee.hd.stream_id] = 0
            return 0
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, nameLength, value, valueLength, _, userData in
            guard let frame, let userData, let name, let value else { return 0 }
            let me = Unmanaged<NGHTTP2Session>.fromOpaque(userData).takeUnretainedValue()
            let streamID = frame.pointee.hd.stream_id
            let size = (me.headerBlockSizes[streamID] ?? 0) + nameLength + valueLength + 32
            guard size <= me.maxHeaderListSize else {
                // Past the limit: drop what was decoded, and have nghttp2
                // reset the stream (it keeps decoding the block for HPACK's
                // state, without handing more of it over).
                me.headerBlocks[streamID] = nil
                me.headerBlockSizes[streamID] = me.maxHeaderListSize + 1  // refused for the rest of the block
                me.delegate?.sessionDidRefuseHeaderList(streamID: streamID)
                return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue
            }
            me.headerBlockSizes[streamID] = size
            let header = HTTP2Header(
                String(decoding: UnsafeBufferPointer(start: name, count: nameLength), as: UTF8.self),
                String(decoding: UnsafeBufferPointer(start: value, count: valueLength), as: UTF8.self))
            me.headerBlocks[streamID]?.append(header)
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
            guard let frame, let userData else { return 0 }
            let me = Unmanaged<NGHTTP2Session>.fromOpaque(userData).takeUnretainedValue()
            let hd = frame.pointee.hd
            let endStream = hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
            if endStream, me.role == .server { me.clientStreamIDs.endStream(on: hd.stream_id) }
            switch UInt32(hd.type) {
            case NGHTTP2_HEADERS.rawValue:
                me.headerBlockSizes[hd.stream_id] = nil
                guard let headers = me.headerBlocks.removeValue(forKey: hd.stream_id) else { break }
                me.delegate?.sessionDidReceiveHeaders(headers, streamID: hd.stream_id, endStream: endStream)
            case NGHTTP2_DATA.rawValue where endStream:
                me.delegate?.sessionDidReceiveEndStream(streamID: hd.stream_id)
            case NGHTTP2_GOAWAY.rawValue:
                let goAway = frame.pointee.goaway
                let debug = goAway.opaque_data_len > 0 && goAway.opaque_data != nil
                    ? String(decoding: UnsafeBufferPointer(start: goAway.opaque_data, count: min(goAway.opaque_data_len, 1024)), as: UTF8.self)
                    : ""
                me.delegate?.sessionDidReceiveGoAway(errorCode: goAway.error_code, debug: debug)
            case NGHTTP2_PING.rawValue where hd.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) == 0:
                me.delegate?.sessionDidReceivePing()
            case NGHTTP2_RST_STREAM.rawValue:
                me.delegate?.sessionDidReceiveReset(streamID: hd.stream_id)
            case NGHTTP2_SETTINGS.rawValue where hd.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) == 0:
                me.delegate?.sessionDidReceiveSettings()
            default:
                break
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, streamID, data, length, userData in
            guard let userData, let data else { return 0 }
            let me = Unmanaged<NGHTTP2Session>.fromOpaque(userData).takeUnretainedValue()
            me.delegate?.sessionDidReceiveData(UnsafeRawBufferPointer(start: data, count: length), streamID: streamID)
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks) { session, frame, userData in
            guard let session, let frame, let userData else { return 0 }
            let hd = frame.pointee.hd
            let endStream = hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
            guard endStream else { return 0 }  // every DATA frame passes here: stay cheap
            let type = UInt32(hd.type)
            let isServer = Unmanaged<NGHTTP2Session>.fromOpaque(userData)._withUnsafeGuaranteedRef { $0.role == .server }
            // A server that ended its response while the client still has
            // its side open (a streaming call ended by the server) resets
            // the stream with NO_ERROR, as gRPC servers do, so that the
            // stream is freed on both ends without waiting for the client.
            if isServer, type == NGHTTP2_HEADERS.rawValue || type == NGHTTP2_DATA.rawValue,
               nghttp2_session_get_stream_remote_close(session, hd.stream_id) == 0 {
                _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), hd.stream_id, NGHTTP2_NO_ERROR.rawValue)
            }
            return 0
        }
        // NGHTTP2_DATA_FLAG_NO_COPY: a DATA frame is written here, its 9-byte
        // header then its payload taken from the stream's pending bytes,
        // straight into the out buffer of the send in progress: no copy
        // into nghttp2's own frame buffer and none out of it. For a live
        // tick this is the one copy between the shared batch and the socket.
        nghttp2_session_callbacks_set_send_data_callback(callbacks) { _, frame, framehd, length, source, userData in
            guard let frame, let framehd, let source, let pointer = source.pointee.ptr, let userData else {
                return NGHTTP2_ERR_CALLBACK_FAILURE.rawValue
            }
            // Per DATA frame: both objects are used unretained (nghttp2 calls
            // back only while its owner is inside send, so both are alive).
            let padding = Int(frame.pointee.data.padlen)
            Unmanaged<NGHTTP2Session>.fromOpaque(userData)._withUnsafeGuaranteedRef { me in
                Unmanaged<HTTP2OutboundStream>.fromOpaque(pointer)._withUnsafeGuaranteedRef { stream in
                    me.output.writeBytes(UnsafeRawBufferPointer(start: framehd, count: 9))
                    if padding > 0 { me.output.writeInteger(UInt8(padding - 1)) }
                    if length > 0 {
                        // Owned bytes, then borrowed ones straight from the
                        // delivery pass's shared batch (``PendingBytes``).
                        me.output.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { target in
                            stream.pending.copyFront(length, to: target.baseAddress.unsafelyUnwrapped)
                            return length
                        }
                    }
                    stream.compactPending()
                    if padding > 1 { me.output.writeRepeatingByte(0, count: padding - 1) }
                }
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamID, errorCode, userData in
            guard let userData else { return 0 }
            let me = Unmanaged<NGHTTP2Session>.fromOpaque(userData).takeUnretainedValue()
            me.headerBlocks.removeValue(forKey: streamID)
            if let stream = me.outbound.removeValue(forKey: streamID) {
                stream.closed = true
                stream.discardPending()
            }
            me.delegate?.sessionDidCloseStream(streamID: streamID, errorCode: errorCode)
            return 0
        }
    }
}
