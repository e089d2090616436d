import ArgumentParser

/// `host:port`, with `[::1]:port` for IPv6.
struct HostPort: ExpressibleByArgument, CustomStringConvertible {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init(parsing text: String) throws {
        guard let colon = text.lastIndex(of: ":") else { throw ValidationError("\"\(text)\" is not host:port") }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("\"\(text)\" is not host:port (port 0-65535)")
        }
        self.host = host
        self.port = port
    }

    init?(argument: String) {
        guard let parsed = try? HostPort(parsing: argument) else { return nil }
        self = parsed
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
