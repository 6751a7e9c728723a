@testable import AIOSCore
import AIOSTestSupport
import Glibc
import Testing

/// Definition files are parsed again only when they change: at 10,000 definitions every cycle and heartbeat read
/// them all. What must not change: an edited file is read again, a file made group-writable is refused, a removed one
/// is gone.
@Suite struct SyncDefinitionCacheTests {
    static func text(vault: String) -> String {
        "keyvaultName: \(vault)\nobjects:\n  - objectName: db-password\nsecretObject:\n  namespace: apps\n  data:\n    - {sourcePath: db-password, targetKey: password}\n"
    }

    @Test func aFileIsParsedAgainOnlyWhenItChanges() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let cache = SyncDefinitionCache(settleSeconds: 0)
        let definitions = SyncDefinitionDirectory(path: directory.path, defaultNamespace: "default", cache: cache)
        let path = try directory.write("db.yaml", Self.text(vault: "kv-one"))

        #expect(definitions.load().definitions.map(\.keyvaultName) == ["kv-one"])
        let identity = try #require(cache.identity(of: path, defaultNamespace: "default"))
        #expect(cache.definition(at: path, identity: identity.identity)?.keyvaultName == "kv-one", "kept after the first read")
        #expect(cache.definition(at: path, identity: try #require(cache.identity(of: path, defaultNamespace: "other")).identity) == nil,
                "another default namespace parses differently: no hit")

        // Replaced with content of the same size (as an editor or `secret add` writes: a new file renamed over it).
        try directory.write("db.yaml", Self.text(vault: "kv-two"))
        #expect(definitions.load().definitions.map(\.keyvaultName) == ["kv-two"])

        // Made group-writable: refused although its content is cached.
        chmod(path, 0o664)
        let refused = definitions.load()
        #expect(refused.definitions.isEmpty && refused.invalid.first?.error.description.contains("writable by group") == true)
        chmod(path, 0o644)
        #expect(definitions.load().definitions.map(\.keyvaultName) == ["kv-two"])

        // Removed: gone, and its entry with it.
        unlink(path)
        #expect(definitions.load().definitions.isEmpty)
        #expect(cache.definition(at: path, identity: identity.identity) == nil)
    }

    @Test func aFileChangedJustNowIsNotCached() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let cache = SyncDefinitionCache()  // 2 s: within it, two edits may leave the same times and size
        let path = try directory.write("db.yaml", Self.text(vault: "kv-one"))
        #expect(SyncDefinitionDirectory(path: directory.path, defaultNamespace: "default", cache: cache).load().definitions.count == 1)
        let identity = try #require(cache.identity(of: path, defaultNamespace: "default"))
        #expect(!identity.settled && cache.definition(at: path, identity: identity.identity) == nil)
    }
}
