public import NIOCore
import CTickgateProto

/// `grpc.health.v1` messages.
extension WireCodec {
    public static func encodeHealthCheckRequest(service: String, into buffer: inout ByteBuffer) {
        service.withCString { name in
            var c = Grpc__Health__V1__HealthCheckRequest()
            grpc__health__v1__health_check_request__init(&c)
            c.service = UnsafeMutablePointer(mutating: name)
            let size = grpc__health__v1__health_check_request__get_packed_size(&c)
            buffer.writeProtobuf(size: size) { grpc__health__v1__health_check_request__pack(&c, $0) }
        }
    }

    /// The service a health request names ("" for the whole server).
    public static func decodeHealthCheckRequest(_ buffer: ByteBuffer) throws(WireError) -> String {
        try decode(buffer) { raw throws(WireError) in
            let decoded = withProtobufInput(raw) { grpc__health__v1__health_check_request__unpack(nil, $0, $1) }
            guard let decoded else { throw WireError(messageType: "HealthCheckRequest", byteCount: raw.count) }
            defer { grpc__health__v1__health_check_request__free_unpacked(decoded, nil) }
            return stringFromC(decoded.pointee.service)
        }
    }

    public static func encode(_ status: HealthStatus, into buffer: inout ByteBuffer) {
        var c = Grpc__Health__V1__HealthCheckResponse()
        grpc__health__v1__health_check_response__init(&c)
        c.status = Grpc__Health__V1__HealthCheckResponse__ServingStatus(rawValue: .init(truncatingIfNeeded: status.rawValue))
        let size = grpc__health__v1__health_check_response__get_packed_size(&c)
        buffer.writeProtobuf(size: size) { grpc__health__v1__health_check_response__pack(&c, $0) }
    }

    public static func decodeHealthCheckResponse(_ buffer: ByteBuffer) throws(WireError) -> HealthStatus {
        try decode(buffer) { raw throws(WireError) in
            let decoded = withProtobufInput(raw) { grpc__health__v1__health_check_response__unpack(nil, $0, $1) }
            guard let decoded else { throw WireError(messageType: "HealthCheckResponse", byteCount: raw.count) }
            defer { grpc__health__v1__health_check_response__free_unpacked(decoded, nil) }
            return HealthStatus(rawValue: Int32(truncatingIfNeeded: decoded.pointee.status.rawValue)) ?? .unknown
        }
    }
}
