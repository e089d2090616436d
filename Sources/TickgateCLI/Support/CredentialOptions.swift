import ArgumentParser
import Foundation
import TickgateClient

/// How `tickgate subscribe` proves itself to a gateway with API keys. The
/// key is read from a file or the environment, never from the command line
/// (where `ps` and shell history would show it).
struct CredentialOptions: ParsableArguments {
    @Option(help: "File whose first line is the API key. Default: the TICKGATE_API_KEY environment variable, if set.")
    var apiKeyFile: String?

    func credentials() throws -> Credentials {
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
