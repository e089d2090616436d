import ArgumentParser
import Foundation
import TickgateModel
import TickgateTLS

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Make API keys for `tickgate serve --api-keys`.",
        subcommands: [New.self])

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new",
            abstract: "Print a new random API key and the keys-file entry that holds only its SHA-256.",
            discussion: """
                The key is printed once and stored nowhere: give it to the client
                (tickgate subscribe reads it from --api-key-file or TICKGATE_API_KEY).
                Add the entry to the "keys" list of the keys file, then send the
                gateway SIGHUP.
                """)

        @Option(help: "The key's name (shown in the gateway's logs; not secret).")
        var name: String

        @Option(help: "Symbols and patterns it may subscribe to, comma-separated ('*' for all).")
        var subscribe: String = "*"

        @Option(help: "Venues it may publish for, comma-separated ('*' for all). Without it and --publish-symbols: no publishing.")
        var publishVenues: String?

        @Option(help: "Symbols and patterns it may publish, comma-separated (default with --publish-venues: '*').")
        var publishSymbols: String?

        func validate() throws {
            guard !name.isEmpty, name.count <= 128 else { throw ValidationError("--name must be 1 to 128 characters") }
            _ = try Self.patterns(subscribe, "--subscribe")
            if let publishSymbols { _ = try Self.patterns(publishSymbols, "--publish-symbols") }
        }

        static func patterns(_ text: String, _ option: String) throws -> [String] {
            let items = text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            for item in items {
                do { _ = try SymbolPattern(validating: item) } catch { throw ValidationError("\(option): \"\(item)\": \(error.reason)") }
            }
            return items
        }

        func run() throws {
            var generator = SystemRandomNumberGenerator()  // getrandom(2)
            let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let key = "tgk_" + bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
            var entry: [String: Any] = ["name": name, "sha256": SHA256.hex(key), "subscribe": try Self.patterns(subscribe, "--subscribe")]
            if publishVenues != nil || publishSymbols != nil {
                entry["publish"] = [
                    "venues": publishVenues.map { $0.split(separator: ",").map(String.init) } ?? ["*"],
                    "symbols": try publishSymbols.map { try Self.patterns($0, "--publish-symbols") } ?? ["*"],
                ]
            }
            let json = try JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys, .withoutEscapingSlashes])
            print("key:   \(key)")
            print("entry: \(String(decoding: json, as: UTF8.self))")
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
