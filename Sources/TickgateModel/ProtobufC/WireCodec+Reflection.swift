public import NIOCore
import CTickgateProto
import CProtobufC

/// `grpc.reflection.v1` messages, and the served schema's descriptors.
extension WireCodec {
    public static func decodeReflectionRequest(_ buffer: ByteBuffer) throws(WireError) -> ReflectionRequest {
        try decode(buffer) { raw throws(WireError) in
            let decoded = withProtobufInput(raw) { grpc__reflection__v1__server_reflection_request__unpack(nil, $0, $1) }
            guard let decoded else { throw WireError(messageType: "ServerReflectionRequest", byteCount: raw.count) }
            defer { grpc__reflection__v1__server_reflection_request__free_unpacked(decoded, nil) }
            let c = decoded.pointee
            let kind: ReflectionRequest.Kind
            switch c.message_request_case {
            case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
                kind = .fileByFilename(stringFromC(c.file_by_filename))
            case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL:
                kind = .fileContainingSymbol(stringFromC(c.file_containing_symbol))
            case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION:
                let e = c.file_containing_extension?.pointee
                kind = .fileContainingExtension(containingType: stringFromC(e?.containing_type), number: e?.extension_number ?? 0)
            case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE:
                kind = .allExtensionNumbersOfType(stringFromC(c.all_extension_numbers_of_type))
            case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES:
                kind = .listServices(stringFromC(c.list_services))
            default:
                kind = .none
            }
            return ReflectionRequest(host: stringFromC(c.host), kind: kind)
        }
    }

    public static func encode(_ request: ReflectionRequest, into buffer: inout ByteBuffer) {
        withCArena { arena in
            var c = Grpc__Reflection__V1__ServerReflectionRequest()
            grpc__reflection__v1__server_reflection_request__init(&c)
            fill(&c, request, arena)
            let size = grpc__reflection__v1__server_reflection_request__get_packed_size(&c)
            buffer.writeProtobuf(size: size) { grpc__reflection__v1__server_reflection_request__pack(&c, $0) }
        }
    }

    /// A response: the request it answers (as gRPC's servers echo it), then the answer.
    public static func encodeReflectionResponse(to request: ReflectionRequest, _ answer: ReflectionAnswer, into buffer: inout ByteBuffer) {
        withCArena { arena in
            var original = Grpc__Reflection__V1__ServerReflectionRequest()
            grpc__reflection__v1__server_reflection_request__init(&original)
            fill(&original, request, arena)
            var c = Grpc__Reflection__V1__ServerReflectionResponse()
            grpc__reflection__v1__server_reflection_response__init(&c)
            c.valid_host = arena.string(request.host)
            c.original_request = arena.make(original)
            switch answer {
            case .files(let files):
                var response = Grpc__Reflection__V1__FileDescriptorResponse()
                grpc__reflection__v1__file_descriptor_response__init(&response)
                response.n_file_descriptor_proto = files.count
                response.file_descriptor_proto = arena.array(files.map { bytes in
                    let copy = arena.array(bytes)
                    return ProtobufCBinaryData(len: bytes.count, data: copy)
                })
                c.message_response_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE
                c.file_descriptor_response = arena.make(response)
            case .extensionNumbers(let baseType, let numbers):
                var response = Grpc__Reflection__V1__ExtensionNumberResponse()
                grpc__reflection__v1__extension_number_response__init(&response)
                response.base_type_name = arena.string(baseType)
                response.n_extension_number = numbers.count
                response.extension_number = arena.array(numbers)
                c.message_response_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE
                c.all_extension_numbers_response = arena.make(response)
            case .services(let names):
                let services = names.map { name -> UnsafeMutablePointer<Grpc__Reflection__V1__ServiceResponse>? in
                    var service = Grpc__Reflection__V1__ServiceResponse()
                    grpc__reflection__v1__service_response__init(&service)
                    service.name = arena.string(name)
                    return arena.make(service)
                }
                var response = Grpc__Reflection__V1__ListServiceResponse()
                grpc__reflection__v1__list_service_response__init(&response)
                response.n_service = services.count
                response.service = arena.array(services)
                c.message_response_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE
                c.list_services_response = arena.make(response)
            case .error(let code, let message):
                var response = Grpc__Reflection__V1__ErrorResponse()
                grpc__reflection__v1__error_response__init(&response)
                response.error_code = code
                response.error_message = arena.string(message)
                c.message_response_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE
                c.error_response = arena.make(response)
            }
            let size = grpc__reflection__v1__server_reflection_response__get_packed_size(&c)
            buffer.writeProtobuf(size: size) { grpc__reflection__v1__server_reflection_response__pack(&c, $0) }
        }
    }

    private static func fill(_ c: inout Grpc__Reflection__V1__ServerReflectionRequest, _ request: ReflectionRequest, _ arena: CArena) {
        c.host = arena.string(request.host)
        switch request.kind {
        case .fileByFilename(let name):
            c.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME
            c.file_by_filename = arena.string(name)
        case .fileContainingSymbol(let symbol):
            c.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL
            c.file_containing_symbol = arena.string(symbol)
        case .fileContainingExtension(let type, let number):
            var e = Grpc__Reflection__V1__ExtensionRequest()
            grpc__reflection__v1__extension_request__init(&e)
            e.containing_type = arena.string(type)
            e.extension_number = number
            c.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION
            c.file_containing_extension = arena.make(e)
        case .allExtensionNumbersOfType(let type):
            c.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE
            c.all_extension_numbers_of_type = arena.string(type)
        case .listServices(let text):
            c.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES
            c.list_services = arena.string(text)
        case .none:
            break
        }
    }

    public static func decodeReflectionResponse(_ buffer: ByteBuffer) throws(WireError) -> (ReflectionRequest?, ReflectionAnswer?) {
        try decode(buffer) { raw throws(WireError) in
            let decoded = withProtobufInput(raw) { grpc__reflection__v1__server_reflection_response__unpack(nil, $0, $1) }
            guard let decoded else { throw WireError(messageType: "ServerReflectionResponse", byteCount: raw.count) }
            defer { grpc__reflection__v1__server_reflection_response__free_unpacked(decoded, nil) }
            let c = decoded.pointee
            var original: ReflectionRequest? = nil
            if let request = c.original_request {
                var bytes = ByteBuffer()
                let size = grpc__reflection__v1__server_reflection_request__get_packed_size(request)
                bytes.writeProtobuf(size: size) { grpc__reflection__v1__server_reflection_request__pack(request, $0) }
                original = try decodeReflectionRequest(bytes)
            }
            let answer: ReflectionAnswer?
            switch c.message_response_case {
            case GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE:
                let r = c.file_descriptor_response!.pointee
                answer = .files((0..<r.n_file_descriptor_proto).map { index in
                    let data = r.file_descriptor_proto[index]
                    return data.len > 0 ? Array(UnsafeBufferPointer(start: data.data, count: data.len)) : []
                })
            case GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE:
                let r = c.list_services_response!.pointee
                answer = .services((0..<r.n_service).map { stringFromC(r.service[$0]!.pointee.name) })
            case GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE:
                let r = c.error_response!.pointee
                answer = .error(code: r.error_code, message: stringFromC(r.error_message))
            case GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE:
                let r = c.all_extension_numbers_response!.pointee
                answer = .extensionNumbers(
                    baseType: stringFromC(r.base_type_name),
                    numbers: r.n_extension_number > 0 ? Array(UnsafeBufferPointer(start: r.extension_number, count: r.n_extension_number)) : [])
            default:
                answer = nil
            }
            return (original, answer)
        }
    }

    /// The served schema, from the descriptor set generated into the C
    /// module (scripts/generate-protos.sh): each file's bytes and names.
    public static func servedDescriptorFiles() -> [DescriptorFile] {
        let set = UnsafeRawBufferPointer(start: tickgate_descriptor_set_ptr(), count: Int(tickgate_descriptor_set_length))
        guard let decoded = withProtobufInput(set, { tickgate__internal__file_set__unpack(nil, $0, $1) }) else {
            preconditionFailure("the generated descriptor set does not decode")
        }
        defer { tickgate__internal__file_set__free_unpacked(decoded, nil) }
        var files: [DescriptorFile] = []
        for index in 0..<decoded.pointee.n_file {
            let data = decoded.pointee.file[index]
            let bytes = Array(UnsafeBufferPointer(start: data.data, count: data.len))
            guard let names = withProtobufInput(UnsafeRawBufferPointer(start: data.data, count: data.len), {
                tickgate__internal__file_names__unpack(nil, $0, $1)
            }) else { continue }
            defer { tickgate__internal__file_names__free_unpacked(names, nil) }
            let n = names.pointee
            let package = stringFromC(n.package)
            let prefix = package.isEmpty ? "" : package + "."
            var symbols: [String] = package.isEmpty ? [] : [package]
            var services: [String] = []
            func addMessages(_ list: UnsafeMutablePointer<UnsafeMutablePointer<Tickgate__Internal__MessageNames>?>?, _ count: Int, scope: String) {
                for m in 0..<count {
                    guard let message = list?[m]?.pointee else { continue }
                    let name = scope + stringFromC(message.name)
                    symbols.append(name)
                    for e in 0..<message.n_enum_type { symbols.append(name + "." + stringFromC(message.enum_type[e]!.pointee.name)) }
                    addMessages(message.nested_type, message.n_nested_type, scope: name + ".")
                }
            }
            addMessages(n.message_type, n.n_message_type, scope: prefix)
            for e in 0..<n.n_enum_type { symbols.append(prefix + stringFromC(n.enum_type[e]!.pointee.name)) }
            for s in 0..<n.n_service {
                let service = n.service[s]!.pointee
                let name = prefix + stringFromC(service.name)
                symbols.append(name)
                services.append(name)
                for m in 0..<service.n_method { symbols.append(name + "." + stringFromC(service.method[m]!.pointee.name)) }
            }
            files.append(DescriptorFile(
                name: stringFromC(n.name), bytes: bytes, dependencies: stringsFromC(n.dependency, count: n.n_dependency),
                symbols: symbols, services: services))
        }
        return files
    }
}
