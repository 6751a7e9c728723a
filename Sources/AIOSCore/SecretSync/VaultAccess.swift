import FoundationEssentials

/// What one list pass says about a secret: enough to decide whether its value must be fetched.
public struct VaultListing: Sendable, Equatable {
    public var enabled: Bool
    /// When the list pass ran (Unix seconds).
    public var listedAt: Int
    public var updated: Int?
    public var contentType: String?
}

/// A vault failure for one object or one vault; `absent` is true only when the vault says the secret is gone
/// (404) or disabled, never for an outage.
struct VaultIssue: Error {
    var issue: SyncIssue
    var absent: Bool
}

/// One vault as secret sync uses it: the list pass and the fetch of an object's value(s).
public final class VaultAccess: Sendable {
    let client: KeyVaultClient
    let vaultName: String

    init(client: KeyVaultClient, vaultName: String) {
        self.client = client
        self.vaultName = vaultName
    }

    /// Every secret in the vault by lowercased name (Key Vault names are case-insensitive).
    func list() throws(VaultIssue) -> [String: VaultListing] {
        do {
            var result: [String: VaultListing] = [:]
            let listedAt = Int(Date().timeIntervalSince1970)
            for item in try client.listSecrets() {
                result[item.name.lowercased()] = VaultListing(enabled: item.enabled, listedAt: listedAt, updated: item.updated,
                                                              contentType: item.contentType)
            }
            return result
        } catch {
            throw Self.issue(error, vault: vaultName, object: nil)
        }
    }

    /// The object's content: one value, or with a version history the newest enabled versions as `alias/0...`.
    func fetch(_ object: SyncObject, listing: VaultListing) throws(VaultIssue) -> SecretSyncEngine.FetchedValue {
        // Taken before the first GET: every write in a second at least two seconds earlier is in what it returns.
        let fetchedAt = Int(Date().timeIntervalSince1970)
        do {
            if object.objectVersionHistory > 1 {
                let versions = Self.history(try client.listVersions(name: object.objectName), of: object)
                var outputs: [String: [UInt8]] = [:]
                var newest: KeyVaultSecret?
                for (index, version) in versions.enumerated() {
                    let secret = try client.getSecret(name: object.objectName, version: version.version)
                    outputs["\(object.alias)/\(index)"] = try materialize(object, secret.value, secret.contentType)
                    if index == 0 { newest = secret }
                }
                return .init(updated: listing.updated, observedAt: fetchedAt, version: versions.first?.version, outputs: outputs,
                             expires: newest.flatMap(Self.expires), notBefore: newest?.notBefore)
            }
            let secret = try client.getSecret(name: object.objectName, version: object.objectVersion)
            return .init(updated: listing.updated, observedAt: fetchedAt, version: secret.version,
                         outputs: [object.alias: try materialize(object, secret.value, secret.contentType)],
                         expires: Self.expires(secret), notBefore: secret.notBefore)
        } catch let issue as VaultIssue {
            throw issue
        } catch {
            throw Self.issue(error, vault: vaultName, object: object.objectName)
        }
    }

    /// The versions an `objectVersionHistory` object syncs, as the Azure provider picks them
    /// (Azure/secrets-store-csi-driver-provider-azure pkg/provider/provider.go, getLatestNKeyVaultObjects): disabled
    /// versions dropped, newest `created` first, starting at the pinned `objectVersion` when one is given. The
    /// provider's loop appends a version and stops only once more than N are in (`if length+1 > N { break }`), so
    /// N asks for N+1 versions, `alias/0...alias/N` (the sourcePaths a definition may map), when the vault has them.
    static func history(_ versions: [KeyVaultSecretVersionItem], of object: SyncObject) -> [KeyVaultSecretVersionItem] {
        var sorted = versions.filter(\.enabled).sorted { ($0.created ?? 0, $0.version) > ($1.created ?? 0, $1.version) }
        if let pinned = object.objectVersion, let start = sorted.firstIndex(where: { $0.version.lowercased() == pinned.lowercased() }) {
            sorted.removeFirst(start)
        }
        return Array(sorted.prefix(object.objectVersionHistory + 1))
    }

    /// The earlier of the version's `exp` and, for a certificate, the leaf's notAfter (they differ when a
    /// certificate was stored as a plain secret, or `exp` was set by hand).
    static func expires(_ secret: KeyVaultSecret) -> Int? {
        let notAfter = ObjectContent.certificateNotAfter(value: secret.value, contentType: secret.contentType)
        return [secret.expires, notAfter].compactMap { $0 }.min()
    }

    private func materialize(_ object: SyncObject, _ value: String, _ contentType: String?) throws(VaultIssue) -> [UInt8] {
        do {
            return try ObjectContent.materialize(object, value: value, contentType: contentType)
        } catch {
            throw VaultIssue(issue: error, absent: false)
        }
    }

    static func code(for kind: KeyVaultError.Kind) -> String {
        switch kind {
        case .notFound: "SecretNotFound"
        case .disabled: "SecretDisabled"
        case .forbidden: "Forbidden"
        case .throttled: "Throttled"
        case .unauthorized: "Unauthorized"
        case .server: "KeyVaultServerError"
        case .unreachable: "KeyVaultUnreachable"
        case .badResponse: "KeyVaultBadResponse"
        case .invalidRequest: "InvalidRequest"
        case .authentication(let error): error.code
        }
    }

    static func issue(_ error: any Error, vault: String, object: String?) -> VaultIssue {
        let subject = object.map { "\($0) in vault \(vault)" } ?? "vault \(vault)"
        if let error = error as? KeyVaultError {
            if case .authentication(let auth) = error.kind {
                return VaultIssue(issue: SyncIssue(code: auth.code, message: auth.message, hint: auth.hint), absent: false)
            }
            return VaultIssue(issue: SyncIssue(code: error.code ?? Self.code(for: error.kind), message: "\(subject): \(error.message)", hint: error.hint),
                              absent: error.meansAbsentInVault)
        }
        if let error = error as? AzureAuthError {
            return VaultIssue(issue: SyncIssue(code: error.code, message: error.message, hint: error.hint), absent: false)
        }
        return VaultIssue(issue: SyncIssue(code: "KeyVaultError", message: "\(subject): \(error)"), absent: false)
    }
}
