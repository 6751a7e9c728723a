/// Every rule a definition must meet before aiosd writes it or syncs it. One list of rules serves the
/// files in secrets.d and `aiosctl secret add`.
public enum SyncDefinitionValidator {
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var key: String
        public var message: String
        public var description: String { "\(key): \(message)" }
    }

    /// Reserved label prefix: aiosd marks the Secrets it owns with it.
    public static let reservedPrefix = "aios.microsoft.com/"

    public static func problems(in definition: SyncDefinition) -> [Problem] {
        var problems: [Problem] = []
        func fail(_ key: String, _ message: String) { problems.append(Problem(key: key, message: message)) }

        if case .file = definition.source, !KubernetesNames.isSubdomain(definition.name) {
            fail("name", "\"\(definition.name)\" is not a Kubernetes name (lowercase letters, digits, '-', '.'; at most 253)")
        }
        if !KubernetesNames.isVaultName(definition.keyvaultName) {
            fail("keyvaultName", "\"\(definition.keyvaultName)\" is not a Key Vault name (3-24 letters, digits and '-', starting with a letter)")
        }
        if let tenant = definition.tenantId, !KubernetesNames.isGUID(tenant) {
            fail("tenantId", "\"\(tenant)\" is not a tenant id (a GUID)")
        }
        if let client = definition.clientId, !KubernetesNames.isGUID(client) {
            fail("clientID", "\"\(client)\" is not a client id (a GUID)")
        }
        var paths: Set<String> = []
        for (index, object) in definition.objects.enumerated() {
            let at = "objects[\(index)]"
            if !KubernetesNames.isVaultObjectName(object.objectName) {
                fail("\(at).objectName", "\"\(object.objectName)\" is not a Key Vault object name (1-127 letters, digits and '-')")
            }
            if let version = object.objectVersion, !KubernetesNames.isVaultVersion(version) {
                fail("\(at).objectVersion", "\"\(version)\" is not a Key Vault version (32 hexadecimal characters)")
            }
            if object.objectVersion != nil && object.objectVersionHistory > 1 {
                fail("\(at).objectVersionHistory", "cannot be combined with objectVersion")
            }
            if let alias = object.objectAlias, !KubernetesNames.isSecretKey(alias) {
                fail("\(at).objectAlias", "\"\(alias)\" may only contain letters, digits, '-', '.' and '_'")
            }
            if object.objectType == .cert && object.objectEncoding != .utf8 {
                fail("\(at).objectEncoding", "applies to objectType secret only")
            }
            if object.objectType == .cert && object.objectFormat == .pfx {
                fail("\(at).objectFormat", "pfx applies to objectType secret only")
            }
            for path in object.sourcePaths where !paths.insert(path).inserted {
                fail("\(at).objectAlias", "two objects produce \"\(path)\"; give one an objectAlias")
            }
        }
        let target = definition.target
        if !KubernetesNames.isLabel(target.namespace) {
            fail("secretObject.namespace", "\"\(target.namespace)\" is not a namespace name")
        }
        if !KubernetesNames.isSubdomain(target.name) {
            fail("secretObject.name", "\"\(target.name)\" is not a Secret name")
        }
        var keys: Set<String> = []
        for (index, mapping) in definition.effectiveMappings.enumerated() {
            let at = "secretObject.data[\(index)]"
            if !paths.contains(mapping.sourcePath) {
                fail("\(at).sourcePath", "\"\(mapping.sourcePath)\" is produced by no object (known: \(paths.sorted().joined(separator: ", ")))")
            }
            if !KubernetesNames.isSecretKey(mapping.targetKey) {
                fail("\(at).targetKey", "\"\(mapping.targetKey)\" is not a Secret key (letters, digits, '-', '.', '_')")
            }
            if !keys.insert(mapping.targetKey).inserted {
                fail("\(at).targetKey", "\"\(mapping.targetKey)\" is mapped twice")
            }
        }
        if target.type == .tls {
            let mappings = definition.effectiveMappings
            let certificateSource = mappings.first { $0.targetKey == "tls.crt" }?.sourcePath
            if let key = mappings.first(where: { $0.targetKey == "tls.key" }), key.sourcePath != certificateSource {
                fail("secretObject.data", "tls.key comes from the certificate mapped to tls.crt (\(certificateSource ?? "none")), not from \(key.sourcePath)")
            }
            if !keys.contains("tls.crt") {
                fail("secretObject.data", "a kubernetes.io/tls Secret needs a certificate mapped to targetKey tls.crt")
            }
        }
        for (key, value) in target.labels {
            if !KubernetesNames.isQualifiedKey(key) { fail("secretObject.labels", "\"\(key)\" is not a label key") }
            if !KubernetesNames.isLabelValue(value) { fail("secretObject.labels", "\"\(value)\" is not a label value") }
            if key.hasPrefix(reservedPrefix) { fail("secretObject.labels", "the prefix \(reservedPrefix) is reserved for aiosd") }
        }
        for (key, value) in target.annotations {
            if !KubernetesNames.isQualifiedKey(key) { fail("secretObject.annotations", "\"\(key)\" is not an annotation key") }
            if value.utf8.count > 256 << 10 { fail("secretObject.annotations", "the value of \(key) is longer than 256 KiB") }
            if key.hasPrefix(reservedPrefix) { fail("secretObject.annotations", "the prefix \(reservedPrefix) is reserved for aiosd") }
        }
        if let force = definition.forceSynchronization, force.utf8.count > 253 || force.contains(where: \.isNewline) {
            fail("forceSynchronization", "at most 253 characters on one line")
        }
        return problems
    }
}
