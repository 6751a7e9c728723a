import FoundationEssentials
import Logging
import Synchronization

/// The long-lived clients secret sync reuses across cycles: the Kubernetes client (re-created when the
/// kubeconfig changes), one credential with its token cache per identity, and one Key Vault client per vault
/// and identity (its challenge, connections and request budget survive between cycles).
public final class SyncConnections: Sendable {
    private struct State {
        var kubernetes: (path: String, modified: Date?, client: KubernetesClient)?
        var credentials: [SyncIdentity: any TokenCredential] = [:]
        var vaults: [VaultKey: VaultAccess] = [:]
        var retiredVaultRequests = 0
        var retiredKubernetesRequests = 0
    }

    private struct VaultKey: Hashable {
        var vault: String
        var identity: SyncIdentity
    }

    /// Where the clients send their requests; nil: the real services (fakes in unit tests).
    struct Transports: Sendable {
        var kubernetes: HTTPTransport
        var kubernetesStream: HTTPStreamTransport
        var vault: HTTPTransport
        /// The credential of an identity, before its token cache.
        var credential: @Sendable (SyncIdentity) -> any TokenCredential
        var logger: Logger
        /// The time the vault budgets wait in (a virtual one: backoffs then cost no real time).
        var budgetClock: KeyVaultRequestBudget.BudgetClock
    }

    private let state = Mutex(State())
    private let transports: Transports?

    public init() { transports = nil }

    init(transports: Transports) { self.transports = transports }

    /// Forgets every cached access token, so the next request of each identity asks Entra ID again.
    public func dropCachedTokens() {
        for credential in state.withLock({ Array($0.credentials.values) }) {
            (credential as? TokenCache)?.invalidateAll()
        }
    }

    public var vaultRequestCount: Int {
        state.withLock { $0.vaults.values.reduce($0.retiredVaultRequests) { $0 + $1.client.requestCount } }
    }

    public var kubernetesRequestCount: Int {
        state.withLock { ($0.kubernetes?.client.requestCount ?? 0) + $0.retiredKubernetesRequests }
    }

    public func kubernetes(configuration: SyncConfiguration) throws(SyncIssue) -> KubernetesClient {
        let path = configuration.kubeconfig
        let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        if let current = state.withLock({ $0.kubernetes }), current.path == path, current.modified == modified {
            return current.client
        }
        let kubeconfig: Kubeconfig
        do {
            kubeconfig = try Kubeconfig.load(path: path)
        } catch {
            throw SyncIssue(code: "KubeconfigUnusable", message: "cannot use \(path): \(error)",
                            hint: "is K3s installed and running? systemctl status k3s")
        }
        let client = transports.map { KubernetesClient(kubeconfig: kubeconfig, transport: $0.kubernetes, streamer: $0.kubernetesStream) }
            ?? KubernetesClient(kubeconfig: kubeconfig)
        state.withLock {
            $0.retiredKubernetesRequests += $0.kubernetes?.client.requestCount ?? 0
            $0.kubernetes = (path, modified, client)
        }
        return client
    }

    func vault(_ name: String, identity: SyncIdentity, kubernetes: KubernetesClient, configuration: SyncConfiguration) throws(SyncIssue) -> VaultAccess {
        let key = VaultKey(vault: name, identity: identity)
        if let existing = state.withLock({ $0.vaults[key] }) { return existing }
        let credential = try self.credential(for: identity, kubernetes: kubernetes)
        let client: KeyVaultClient
        do {
            if let transports {
                let budget = KeyVaultRequestBudget(limit: configuration.vaultRequestLimit, window: configuration.vaultRequestWindow,
                                                   clock: transports.budgetClock)
                client = try KeyVaultClient(vaultName: name, dnsSuffix: "vault.azure.net", port: 443, credential: credential, caBundlePEM: nil,
                                            budget: budget, retry: KeyVaultRetryPolicy(sleep: transports.budgetClock.sleep), transport: transports.vault,
                                            logger: transports.logger)
            } else {
                // Shared by every identity's client of this vault: Key Vault counts per vault.
                let budget = KeyVaultRequestBudget.shared(host: "\(name).vault.azure.net", limit: configuration.vaultRequestLimit,
                                                          window: configuration.vaultRequestWindow)
                client = try KeyVaultClient(vaultName: name, credential: credential, budget: budget, maximumConnections: configuration.concurrency)
            }
        } catch {
            throw SyncIssue(code: error.code ?? "InvalidVault", message: error.message, hint: error.hint)
        }
        let access = VaultAccess(client: client, vaultName: name)
        state.withLock { $0.vaults[key] = access }
        return access
    }

    /// A Key Vault token for `identity` (from its cache when still fresh), or why Entra ID refused.
    func vaultToken(for identity: SyncIdentity, kubernetes: KubernetesClient) throws(SyncIssue) -> AccessToken {
        try token(for: identity, resource: "https://vault.azure.net", kubernetes: kubernetes)
    }

    /// A token for another Azure resource (doctor reads the Arc cluster's issuer from Azure Resource Manager).
    func token(for identity: SyncIdentity, resource: String, kubernetes: KubernetesClient) throws(SyncIssue) -> AccessToken {
        let credential = try self.credential(for: identity, kubernetes: kubernetes)
        do {
            return try credential.token(resource: resource, tenant: identity.tenantId)
        } catch {
            throw SyncIssue(code: error.code, message: error.message, hint: error.hint)
        }
    }

    private func credential(for identity: SyncIdentity, kubernetes: KubernetesClient) throws(SyncIssue) -> any TokenCredential {
        if let existing = state.withLock({ $0.credentials[identity] }) { return existing }
        let base: any TokenCredential
        do {
            if let transports {
                base = transports.credential(identity)
            } else {
            switch identity.method {
            case .workloadIdentity:
                let account = identity.serviceAccount!
                // The Kubernetes client of the moment (it is replaced when the kubeconfig changes).
                let tokens: @Sendable () throws -> String = { [weak self] in
                    let client = (self?.state.withLock { $0.kubernetes?.client }) ?? kubernetes
                    do {
                        return try client.requestToken(for: account, audience: SyncIdentity.tokenExchangeAudience).token
                    } catch let error as KubernetesError where error.code == 404 {
                        // A real API server answers 404 for a service account that does not exist (it never creates one).
                        throw AzureAuthError(code: "ServiceAccountNotFound", message: error.message,
                                             hint: "kubectl -n \(account.namespace) create serviceaccount \(account.name)", isRetryable: false)
                    }
                }
                base = try ClientAssertionCredential(tenantId: identity.tenantId, clientId: identity.clientId!,
                                                     authorityHost: identity.authorityHost, assertion: tokens)
            case .clientSecret:
                base = try ClientSecretCredential(tenantId: identity.tenantId, clientId: identity.clientId!,
                                                  secretFile: identity.clientSecretFile!, authorityHost: identity.authorityHost)
            case .managedIdentity:
                switch identity.managedIdentityEndpoint ?? .imds {
                case .imds: base = ManagedIdentityCredential(source: .imds(clientId: identity.clientId))
                case .arc: base = ManagedIdentityCredential(source: .arc())
                }
            }
            }
        } catch {
            throw SyncIssue(code: error.code, message: error.message, hint: error.hint)
        }
        let cached = TokenCache(wrapping: base, clientId: identity.clientId ?? "managed-identity")
        state.withLock { $0.credentials[identity] = cached }
        return cached
    }
}
