@testable import AIOSCore
import Testing

/// `SyncDefinition` keeps its fields in a shared box; the hash that tells a changed definition must stay what it
/// was when the fields were stored inline, or every definition would count as changed after an upgrade.
@Suite struct SyncDefinitionStorageTests {
    /// The struct as it was before the box: `String(describing:)` of it is the hash input recorded in state files.
    enum Inline {
        struct SyncDefinition {
            var name: String
            var source: AIOSCore.SyncDefinition.Source
            var keyvaultName: String
            var tenantId: String?
            var clientId: String?
            var serviceAccount: ServiceAccountReference?
            var objects: [SyncObject]
            var target: TargetSecret
            var forceSynchronization: String?
            var writtenBy: Privilege
        }
    }

    static func randomText(_ rng: inout some RandomNumberGenerator) -> String {
        let alphabet = Array("abcXYZ09-_./:\"\\ é\n")
        return String((0..<Int.random(in: 0...24, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
    }

    static func randomDefinition(_ rng: inout some RandomNumberGenerator) -> (AIOSCore.SyncDefinition, Inline.SyncDefinition) {
        func text() -> String { randomText(&rng) }
        func maybe() -> String? { Bool.random(using: &rng) ? text() : nil }
        var origin = AIOSCore.SyncDefinition.ClusterOrigin(namespace: text(), secretSync: text(), secretProviderClass: text(), uid: text(),
                                                           generation: Int.random(in: -5...1_000_000, using: &rng), resourceVersion: text())
        origin.ownedBySecretSync = Bool.random(using: &rng)
        let source: AIOSCore.SyncDefinition.Source = Bool.random(using: &rng) ? .file(path: text()) : .cluster(origin)
        let objects = (0..<Int.random(in: 0...3, using: &rng)).map { _ in
            SyncObject(objectName: text(), objectType: SyncObject.ObjectType.allCases.randomElement(using: &rng)!, objectVersion: maybe(),
                       objectVersionHistory: Int.random(in: 0...3, using: &rng), objectAlias: maybe(),
                       objectEncoding: SyncObject.Encoding.allCases.randomElement(using: &rng)!,
                       objectFormat: SyncObject.Format.allCases.randomElement(using: &rng)!)
        }
        let target = TargetSecret(namespace: text(), name: text(), type: TargetSecret.SecretType.allCases.randomElement(using: &rng)!,
                                  labels: Bool.random(using: &rng) ? [text(): text()] : [:], annotations: Bool.random(using: &rng) ? [text(): text()] : [:],
                                  data: (0..<Int.random(in: 0...2, using: &rng)).map { _ in KeyMapping(sourcePath: text(), targetKey: text()) })
        let account = Bool.random(using: &rng) ? ServiceAccountReference(namespace: text(), name: text()) : nil
        let (name, vault, tenant, client, force) = (text(), text(), maybe(), maybe(), maybe())
        let writer: Privilege = Bool.random(using: &rng) ? .root : .operator
        return (AIOSCore.SyncDefinition(name: name, source: source, keyvaultName: vault, tenantId: tenant, clientId: client, serviceAccount: account,
                                        objects: objects, target: target, forceSynchronization: force, writtenBy: writer),
                Inline.SyncDefinition(name: name, source: source, keyvaultName: vault, tenantId: tenant, clientId: client, serviceAccount: account,
                                      objects: objects, target: target, forceSynchronization: force, writtenBy: writer))
    }

    @Test func hashInputIsWhatTheInlineStructPrinted() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let (boxed, inline) = Self.randomDefinition(&rng)
            #expect(boxed.hashInput == String(describing: inline))
        }
    }

    @Test func aChangeMakesANewValueAndLeavesCopiesAlone() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let (original, _) = Self.randomDefinition(&rng)
            var changed = original
            #expect(changed == original)
            changed.target.labels["aios-test"] = "x"
            #expect(changed != original)
            #expect(original.target.labels["aios-test"] == nil)
            #expect(changed.target.labels["aios-test"] == "x")
            var renamed = original
            renamed.name += "-2"
            #expect(renamed.name == original.name + "-2" && renamed.objects == original.objects && renamed != original)
            var same = original
            same.writtenBy = original.writtenBy
            #expect(same == original, "equal fields in another box compare equal")
        }
    }
}
