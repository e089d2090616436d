import ArgumentParser
import Foundation
import TickgateClient

/// How `tickgate subscribe` reaches a gateway (TLS) and proves itself (API
/// key). The key is read from a file or the environment, never from the
/// command line (where `ps` and shell history would show it).
struct CredentialOptions: ParsableArguments {
    @Option(help: "File whose first line is the API key. Default: the TICKGATE_API_KEY environment variable, if set.")
    var apiKeyFile: String?

    @Flag(help: "Connect with TLS (the gateway's certificate is verified against the system's CAs and --ca-file).")
    var tls = false

    @Option(help: "Extra CA certificates (PEM) to trust; implies --tls.")
    var caFile: String?

    @Option(help: "The name the gateway's certificate must carry (default: the host of --to); implies --tls.")
    var tlsServerName: String?

    @Option(help: "Client certificate (PEM) for gateways with mutual TLS; implies --tls.")
    var tlsCert: String?

    @Option(help: "The client certificate's private key (PEM).")
    var tlsKey: String?

    func validate() throws {
        if tlsKey != nil && tlsCert == nil { throw ValidationError("--tls-key goes with --tls-cert") }
    }

    private var tlsOptions: Credentials.TLS? {
        guard tls || caFile != nil || tlsServerName != nil || tlsCert != nil else { return nil }
        return Credentials.TLS(caFile: caFile, serverName: tlsServerName, certificateFile: tlsCert, privateKeyFile: tlsKey)
    }

    func credentials() throws -> Credentials {
        var credentials = try keyCredentials()
        credentials.tls = tlsOptions
        return credentials
    }

    private func keyCredentials() throws -> Credentials {
        if let apiKeyFile {
            let text: String
            do {
                text = try String(contentsOfFile: apiKeyFile, encoding: .utf8)
            } catch {
                throw failure("cannot read --api-key-file \(apiKeyFile): \(error.localizedDescription)")
            }
            guard let key = text.split(whereSeparator: \.isNewline).first.map({ $0.trimmingCharacters(in: .whitespaces) }), !key.isEmpty else {
                throw failure("--api-key-file \(apiKeyFile) is empty")
            }
            return Credentials(apiKey: key)
        }
        if let key = ProcessInfo.processInfo.environment["TICKGATE_API_KEY"], !key.isEmpty {
            return Credentials(apiKey: key)
        }
        return .none
    }
}
