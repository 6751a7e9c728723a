import FoundationEssentials

/// Caches the tokens of another credential per (tenant, client id, resource) and refreshes them before they
/// expire: 5 minutes before expiry, or at half their lifetime for tokens that live less than 10 minutes.
/// Thread-safe; concurrent callers for the same key share one fetch (the others wait for it).
public final class TokenCache: TokenCredential, @unchecked Sendable {
    // @unchecked: all mutable state is guarded by `condition`.
    public let clientId: String
    private let credential: any TokenCredential
    private let now: @Sendable () -> Date
    private let condition = ThreadCondition()
    private var entries: [Key: Entry] = [:]

    private struct Key: Hashable {
        var tenant: String
        var resource: String
    }

    private struct Entry {
        var token: AccessToken?
        var obtainedAt = Date.distantPast
        var fetching = false
        /// Counts finished fetches, so waiters can tell whether the fetch they waited for failed.
        var generation = 0
        var failure: (generation: Int, error: AzureAuthError)?
    }

    /// - Parameter clientId: the identity `credential` stands for; part of the cache key.
    public convenience init(wrapping credential: any TokenCredential, clientId: String) {
        self.init(wrapping: credential, clientId: clientId, now: { Date() })
    }

    init(wrapping credential: any TokenCredential, clientId: String, now: @escaping @Sendable () -> Date) {
        self.credential = credential
        self.clientId = clientId
        self.now = now
    }

    public func token(resource: String, tenant: String) throws(AzureAuthError) -> AccessToken {
        let key = Key(tenant: tenant.lowercased(), resource: resource)
        condition.lock()
        var waitedFor: Int?
        while true {
            let entry = entries[key, default: Entry()]
            if let token = entry.token, Self.isFresh(token, obtainedAt: entry.obtainedAt, now: now()) {
                condition.unlock()
                return token
            }
            if let waitedFor, let failure = entry.failure, failure.generation == waitedFor + 1, !entry.fetching {
                condition.unlock()
                throw failure.error
            }
            guard entry.fetching else { break }
            waitedFor = entry.generation
            condition.wait()
        }
        entries[key, default: Entry()].fetching = true
        condition.unlock()

        let result: Result<AccessToken, AzureAuthError>
        let started = now()
        do throws(AzureAuthError) {
            result = .success(try credential.token(resource: resource, tenant: tenant))
        } catch {
            result = .failure(error)
        }

        condition.lock()
        var entry = entries[key, default: Entry()]
        entry.fetching = false
        entry.generation += 1
        switch result {
        case .success(let token):
            entry.token = token
            entry.obtainedAt = started
            entry.failure = nil
        case .failure(let error):
            entry.failure = (entry.generation, error)
        }
        entries[key] = entry
        condition.broadcast()
        condition.unlock()
        return try result.get()
    }

    /// Drops the cached token so the next call fetches a new one (after the resource refused it).
    public func invalidate(resource: String, tenant: String) {
        condition.lock()
        entries[Key(tenant: tenant.lowercased(), resource: resource)]?.token = nil
        condition.unlock()
    }

    /// Drops every cached token (after the identity's configuration was fixed: `aiosctl sync --force`).
    public func invalidateAll() {
        condition.lock()
        for key in entries.keys { entries[key]?.token = nil }
        condition.unlock()
    }

    /// Usable until 5 minutes before expiry; a token living less than 10 minutes only for its first half.
    static func isFresh(_ token: AccessToken, obtainedAt: Date, now: Date) -> Bool {
        let lifetime = token.expiresOn.timeIntervalSince(obtainedAt)
        let margin: TimeInterval = lifetime < 600 ? lifetime / 2 : 300
        return now < token.expiresOn.addingTimeInterval(-margin)
    }
}
