import FoundationEssentials
import Synchronization

/// The sync status of every definition, kept in `/var/lib/aiosd/sync-state.json` (0600) so it survives a restart:
/// change detection after a restart needs the vault's `updated` times and the content hashes. No value is in it.
public final class SyncStateStore: Sendable {
    public static let defaultPath = "/var/lib/aiosd/sync-state.json"
    public let path: String
    private let statuses: Mutex<[String: SyncDefinitionStatus]>

    public init(path: String = SyncStateStore.defaultPath) {
        self.path = path
        var loaded: [String: SyncDefinitionStatus] = [:]
        if let data = FileManager.default.contents(atPath: path),
           let list = try? Self.decoder.decode([SyncDefinitionStatus].self, from: data) {
            for status in list { loaded[status.name] = status }
        }
        statuses = Mutex(loaded)
    }

    public func get(_ name: String) -> SyncDefinitionStatus? { statuses.withLock { $0[name] } }
    public var all: [SyncDefinitionStatus] { statuses.withLock { Array($0.values) }.sorted { $0.name < $1.name } }

    public func put(_ status: SyncDefinitionStatus) { statuses.withLock { $0[status.name] = status } }
    public func remove(_ name: String) { statuses.withLock { _ = $0.removeValue(forKey: name) } }

    /// Writes the file atomically; a failure is returned for logging, the state in memory stays.
    @discardableResult
    public func save() -> AtomicFile.Error? {
        // A copy of the table is a reference to it (copied only if a status changes while the file is written),
        // and the statuses go out in parts in name order: no sorted array of them, no whole text.
        let table = statuses.withLock { $0 }
        let names = table.keys.sorted()
        do {
            try AtomicFile.write(to: path, mode: 0o600) { output throws(AtomicFile.Error) in
                try Self.encode(names.lazy.map { table[$0]! }, to: output)
            }
            return nil
        } catch {
            return error
        }
    }

    /// What the state file is written as (`encoded` writes the same bytes by hand; tests hold it to this).
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
