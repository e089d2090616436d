import TickgateModel

/// What server reflection answers from: the served schema's files (built
/// into the binary by scripts/generate-protos.sh), by name and by symbol.
/// Built once; pure lookups.
struct ReflectionIndex: Sendable {
    private let files: [String: DescriptorFile]
    private let fileBySymbol: [String: String]
    let services: [String]

    static let served = ReflectionIndex(WireCodec.servedDescriptorFiles())

    init(_ descriptors: [DescriptorFile]) {
        var files: [String: DescriptorFile] = [:]
        var bySymbol: [String: String] = [:]
        for file in descriptors {
            files[file.name] = file
            for symbol in file.symbols where bySymbol[symbol] == nil { bySymbol[symbol] = file.name }
        }
        self.files = files
        self.fileBySymbol = bySymbol
        self.services = descriptors.flatMap(\.services).sorted()
    }

    func answer(_ request: ReflectionRequest) -> ReflectionAnswer {
        switch request.kind {
        case .listServices:
            return .services(services)
        case .fileByFilename(let name):
            guard files[name] != nil else { return Self.notFound("file \"\(name.prefix(200))\"") }
            return .files(withDependencies(name))
        case .fileContainingSymbol(let symbol):
            let trimmed = symbol.hasPrefix(".") ? String(symbol.dropFirst()) : symbol
            guard let name = fileBySymbol[trimmed] else { return Self.notFound("symbol \"\(symbol.prefix(200))\"") }
            return .files(withDependencies(name))
        case .fileContainingExtension(let type, let number):
            return Self.notFound("extension \(number) of \"\(type.prefix(200))\" (the served schema declares no extensions)")
        case .allExtensionNumbersOfType(let type):
            guard fileBySymbol[type] != nil else { return Self.notFound("type \"\(type.prefix(200))\"") }
            return .extensionNumbers(baseType: type, numbers: [])
        case .none:
            return .error(code: Int32(GRPCStatusCodeValue.invalidArgument), message: "the request names nothing to look up")
        }
    }

    /// The file first, then every file it depends on (each once).
    private func withDependencies(_ name: String) -> [[UInt8]] {
        var order: [String] = []
        var seen: Set<String> = []
        var queue = [name]
        while let next = queue.first {
            queue.removeFirst()
            guard seen.insert(next).inserted, let file = files[next] else { continue }
            order.append(next)
            queue += file.dependencies
        }
        return order.compactMap { files[$0]?.bytes }
    }

    private static func notFound(_ what: String) -> ReflectionAnswer {
        .error(code: Int32(GRPCStatusCodeValue.notFound), message: "\(what) is not in the served schema")
    }
}

/// The status codes reflection's ErrorResponse carries.
private enum GRPCStatusCodeValue {
    static let invalidArgument = 3
    static let notFound = 5
}
