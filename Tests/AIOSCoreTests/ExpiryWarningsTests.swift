@testable import AIOSCore
import Foundation
import Logging
import Testing

@Suite struct ExpiryWarningsTests {
    static let day = 86400
    static let expires = 2_000_000_000

    @Test func eachThresholdIsDueOnceAsTheExpiryNears() {
        var warned: Int?
        var given: [Int] = []
        // One cycle an hour for 40 days up to 2 days after the expiry.
        for hour in stride(from: 40 * 24, through: -2 * 24, by: -1) {
            let now = Self.expires - hour * 3600
            if let days = ExpiryWarnings.due(expires: Self.expires, now: now, warnedDays: warned) {
                given.append(days)
                warned = days
            }
        }
        #expect(given == [30, 7, 1, 0])
    }

    @Test func onlyTheNearestThresholdIsDueWhenFirstSeenLate() {
        #expect(ExpiryWarnings.due(expires: Self.expires, now: Self.expires - 5 * Self.day, warnedDays: nil) == 7)
        #expect(ExpiryWarnings.due(expires: Self.expires, now: Self.expires - 5 * Self.day, warnedDays: 7) == nil)
        #expect(ExpiryWarnings.due(expires: Self.expires, now: Self.expires + 1, warnedDays: 30) == 0)
        #expect(ExpiryWarnings.due(expires: Self.expires, now: Self.expires - 31 * Self.day, warnedDays: nil) == nil)
        #expect(ExpiryWarnings.due(expires: Self.expires, now: Self.expires - 30 * Self.day, warnedDays: nil) == 30)
    }

    @Test func aNewExpiryStartsOverAndTheSameOneKeepsItsWarnings() {
        var status = SyncObjectStatus(objectName: "db", alias: "db")
        ExpiryWarnings.record(expires: Self.expires, notBefore: nil, on: &status)
        status.expiryWarnedDays = 7
        ExpiryWarnings.record(expires: Self.expires, notBefore: 5, on: &status)
        #expect(status.expiryWarnedDays == 7 && status.notBefore == 5)
        ExpiryWarnings.record(expires: Self.expires + 90 * Self.day, notBefore: nil, on: &status)
        #expect(status.expiryWarnedDays == nil && status.expires == Self.expires + 90 * Self.day)
        ExpiryWarnings.record(expires: nil, notBefore: nil, on: &status)
        #expect(status.expires == nil)
    }

    @Test func checkWarnsOnceAndTheStateSurvivesTheStore() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aios-expiry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let definition = SyncDefinition(name: "db", source: .file(path: "/etc/aios/secrets.d/db.yaml"), keyvaultName: "kv",
                                        objects: [SyncObject(objectName: "db-password")], target: TargetSecret(namespace: "default", name: "db"))
        let records = LogRecorder()
        let logger = Logger(label: "test") { _ in records }
        let now = Date(timeIntervalSince1970: Double(Self.expires - 6 * Self.day))
        var status = SyncObjectStatus(objectName: "db-password", alias: "db-password")
        ExpiryWarnings.record(expires: Self.expires, notBefore: nil, on: &status)
        ExpiryWarnings.check(&status, definition: definition, now: now, logger: logger)
        ExpiryWarnings.check(&status, definition: definition, now: now.addingTimeInterval(3600), logger: logger)
        #expect(records.messages == ["Key Vault object expires soon"])
        #expect(records.metadataOfEntries.first?["threshold_days"] == "7" && records.metadataOfEntries.first?["object"] == "db-password")

        // A restart: the store gives back the warning already given.
        let path = directory.appendingPathComponent("sync-state.json").path
        let store = SyncStateStore(path: path)
        store.put(SyncDefinitionStatus(name: "db", objects: [status]))
        #expect(store.save() == nil)
        var reloaded = try #require(SyncStateStore(path: path).get("db")?.objects.first)
        ExpiryWarnings.check(&reloaded, definition: definition, now: now.addingTimeInterval(7200), logger: logger)
        #expect(records.messages.count == 1)
        ExpiryWarnings.check(&reloaded, definition: definition, now: Date(timeIntervalSince1970: Double(Self.expires + 1)), logger: logger)
        #expect(records.messages == ["Key Vault object expires soon", "Key Vault object has expired; still synced"])
    }
}

/// Keeps what was logged, for tests of log entries.
final class LogRecorder: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(String, Logger.Metadata)] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    var messages: [String] { lock.withLock { entries.map(\.0) } }
    var metadataOfEntries: [Logger.Metadata] { lock.withLock { entries.map(\.1) } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        lock.withLock { entries.append((message.description, metadata ?? [:])) }
    }
}
