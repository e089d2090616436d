import Synchronization
import TickgateHTTP2
import TickgateTLS

/// Who may do what: API keys from a keys file (reloaded on SIGHUP), or
/// anonymous access when there is none. Consulted once per call, when its
/// HEADERS arrive; never per delivery.
public final class AccessControl: Sendable {
    private let keyFile: String?
    /// By SHA-256 of the key: the file may store only that, and looking a
    /// presented key up by its digest compares no secret byte by byte.
    private let grants: Mutex<[[UInt8]: Grant]>
    private let anonymous: Grant?

    /// No keys: anyone may subscribe; Publish only with `allowPublish`.
    public init(anonymousPublish allowPublish: Bool) {
        self.keyFile = nil
        self.grants = Mutex([:])
        self.anonymous = Grant(name: "anonymous", rights: .anonymous(publish: allowPublish))
    }

    /// Keys from `keyFile` (format: ``APIKeyFile``); every call needs one.
    public init(keyFile: String) throws(AccessError) {
        self.keyFile = keyFile
        self.anonymous = nil
        self.grants = Mutex([:])
        _ = try reload()
    }

    /// Keys in memory, for tests and embedding: (key, name, rights).
    public init(keys: [(key: String, name: String, rights: AccessRights)]) {
        self.keyFile = nil
        self.anonymous = nil
        var table: [[UInt8]: Grant] = [:]
        for entry in keys { table[SHA256.hash(entry.key)] = Grant(name: entry.name, rights: entry.rights) }
        self.grants = Mutex(table)
    }

    public var requiresKeys: Bool { anonymous == nil }
    public var anonymousMayPublish: Bool { anonymous?.rights.publish != nil }
    public var keyCount: Int { grants.withLock { $0.count } }

    /// Reads the keys file again. Keys whose rights did not change keep
    /// their open calls; calls of removed or changed keys end
    /// UNAUTHENTICATED. A file that does not parse changes nothing.
    /// Returns how many keys are loaded.
    @discardableResult
    public func reload() throws(AccessError) -> Int {
        guard let keyFile else { return keyCount }
        let keys = try APIKeyFile.load(path: keyFile)
        return grants.withLock { table in
            var next: [[UInt8]: Grant] = [:]
            for key in keys {
                if let old = table[key.digest], old.rights == key.rights, old.name == key.name {
                    next[key.digest] = old
                } else {
                    next[key.digest] = Grant(name: key.name, rights: key.rights)
                }
            }
            for (digest, old) in table where next[digest] !== old { old.revoke() }
            table = next
            return next.count
        }
    }

    /// The grant for a call's `authorization` header, or the status that
    /// refuses it (UNAUTHENTICATED). The message never repeats the key.
    func authenticate(_ authorization: String?) -> Result<Grant, GRPCStatus> {
        if let anonymous { return .success(anonymous) }
        guard let authorization, !authorization.isEmpty else {
            return .failure(GRPCStatus(.unauthenticated, "this gateway needs an API key: send \"authorization: Bearer <key>\""))
        }
        guard let token = Self.bearerToken(authorization) else {
            return .failure(GRPCStatus(.unauthenticated, "the authorization header must be \"Bearer <key>\""))
        }
        let digest = SHA256.hash(token)
        guard let grant = grants.withLock({ $0[digest] }) else {
            return .failure(GRPCStatus(.unauthenticated, "unknown API key"))
        }
        return .success(grant)
    }

    static func bearerToken(_ header: String) -> String? {
        let utf8 = header.utf8
        guard utf8.count > 7, header.prefix(7).lowercased() == "bearer " else { return nil }
        let token = header.dropFirst(7).drop { $0 == " " }
        return token.isEmpty ? nil : String(token)
    }
}
