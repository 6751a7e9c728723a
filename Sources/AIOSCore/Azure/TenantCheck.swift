/// The tenant a token is asked for (from a Key Vault challenge) must be the one the identity lives in:
/// an identity configured for one tenant cannot obtain tokens in another.
enum TenantCheck {
    static func resolve(requested: String, configured: String, clientId: String) throws(AzureAuthError) -> String {
        if requested.isEmpty || requested.lowercased() == configured.lowercased() { return configured }
        throw AzureAuthError(code: "tenant_mismatch",
                             message: "the resource belongs to tenant \(requested) but client \(clientId) is configured for tenant \(configured)",
                             hint: "set the tenant id to \(requested), or use an identity of that tenant", isRetryable: false)
    }
}
