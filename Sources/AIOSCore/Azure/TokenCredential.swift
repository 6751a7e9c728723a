/// Something that obtains Entra ID access tokens. Implementations block; call them from a thread of your own.
public protocol TokenCredential: Sendable {
    /// A token for `resource` (e.g. `https://vault.azure.net`, without `/.default`) in `tenant`.
    func token(resource: String, tenant: String) throws(AzureAuthError) -> AccessToken

    /// Forgets any cached token for `resource` in `tenant`, so the next `token` call fetches a fresh one
    /// (after the resource rejected the cached one). Credentials without a cache do nothing.
    func invalidate(resource: String, tenant: String)
}

extension TokenCredential {
    public func invalidate(resource: String, tenant: String) {}
}
