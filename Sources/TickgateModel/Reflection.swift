/// One `grpc.reflection.v1` (or `v1alpha`, the same messages) request.
public struct ReflectionRequest: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case fileByFilename(String)
        case fileContainingSymbol(String)
        case fileContainingExtension(containingType: String, number: Int32)
        case allExtensionNumbersOfType(String)
        case listServices(String)
        /// No request field was set.
        case none
    }

    public var host: String
    public var kind: Kind

    public init(host: String = "", kind: Kind) {
        self.host = host
        self.kind = kind
    }
}

/// What a reflection response carries after the request it answers.
public enum ReflectionAnswer: Equatable, Sendable {
    /// Serialized FileDescriptorProtos: the file asked for, then its dependencies.
    case files([[UInt8]])
    case extensionNumbers(baseType: String, numbers: [Int32])
    case services([String])
    case error(code: Int32, message: String)
}

/// A file of the served schema: its serialized FileDescriptorProto and
/// the names it declares.
public struct DescriptorFile: Sendable, Equatable {
    public var name: String
    public var bytes: [UInt8]
    public var dependencies: [String]
    /// Fully qualified: packages, messages (nested too), enums, services, methods.
    public var symbols: [String]
    public var services: [String]
}
