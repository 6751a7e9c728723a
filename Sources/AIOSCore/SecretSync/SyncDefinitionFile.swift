import FoundationEssentials

/// Reads and writes `/etc/aios/secrets.d/NAME.yaml`, the file form of a `SyncDefinition`:
///
/// ```yaml
/// keyvaultName: contoso-kv
/// objects:
///   - objectName: db-password
///     objectAlias: password
/// secretObject:
///   namespace: azure-iot-operations
///   type: Opaque
///   data:
///     - sourcePath: password
///       targetKey: password
/// ```
public enum SyncDefinitionFile {
    public static let suffix = ".yaml"
    public static let maximumBytes = 256 << 10

    /// The definition name a file in the directory stands for, or nil if the file is not a definition.
    public static func definitionName(ofFile fileName: String) -> String? {
        guard fileName.hasSuffix(suffix), !fileName.hasPrefix(".") else { return nil }
        return String(fileName.dropLast(suffix.count))
    }

    public static func parse(_ text: String, file: String, name: String, defaultNamespace: String) throws(ConfigurationError) -> SyncDefinition {
        guard KubernetesNames.isSubdomain(name) else {
            throw ConfigurationError(file: file, message: "the file name must be a Kubernetes name (lowercase letters, digits, '-', '.') followed by .yaml")
        }
        var root = try YAMLReader(file: file).rootMapping(of: text)
        guard let vault = try root.nonEmptyString("keyvaultName") else {
            throw root.invalid("keyvaultName", "required: the Key Vault's name (e.g. contoso-kv)")
        }
        let tenant = try root.nonEmptyString("tenantId")
        let client = try root.nonEmptyString("clientID")
        var serviceAccount: ServiceAccountReference?
        if let text = try root.nonEmptyString("serviceAccountName") {
            guard let parsed = ServiceAccountReference(parsing: text) else {
                throw root.invalid("serviceAccountName", "expected NAMESPACE/NAME, got \"\(text)\"")
            }
            serviceAccount = parsed
        }
        guard let objectNodes = try root.mappings("objects"), !objectNodes.isEmpty else {
            throw root.invalid("objects", "required: at least one Key Vault object")
        }
        var objects: [SyncObject] = []
        for var node in objectNodes {
            guard let objectName = try node.nonEmptyString("objectName") else { throw node.invalid("objectName", "required") }
            var object = SyncObject(objectName: objectName)
            if let type = try node.choice("objectType", of: SyncObject.ObjectType.self) { object.objectType = type }
            if let version = try node.string("objectVersion"), !version.isEmpty { object.objectVersion = version }
            if let history = try node.int("objectVersionHistory", in: 0...25) { object.objectVersionHistory = history }
            if let alias = try node.nonEmptyString("objectAlias") { object.objectAlias = alias }
            if let encoding = try node.choice("objectEncoding", of: SyncObject.Encoding.self) { object.objectEncoding = encoding }
            if let format = try node.choice("objectFormat", of: SyncObject.Format.self) { object.objectFormat = format }
            try node.finish(known: ["objectName", "objectType", "objectVersion", "objectVersionHistory", "objectAlias",
                                    "objectEncoding", "objectFormat"])
            objects.append(object)
        }
        var target = TargetSecret(namespace: defaultNamespace, name: name)
        if var secret = try root.mapping("secretObject") {
            if let namespace = try secret.nonEmptyString("namespace") { target.namespace = namespace }
            if let secretName = try secret.nonEmptyString("name") { target.name = secretName }
            if let type = try secret.choice("type", of: TargetSecret.SecretType.self) { target.type = type }
            if let labels = try secret.stringMap("labels") { target.labels = labels }
            if let annotations = try secret.stringMap("annotations") { target.annotations = annotations }
            if let mappings = try secret.mappings("data") {
                for var mapping in mappings {
                    guard let source = try mapping.nonEmptyString("sourcePath") else { throw mapping.invalid("sourcePath", "required") }
                    guard let key = try mapping.nonEmptyString("targetKey") else { throw mapping.invalid("targetKey", "required") }
                    try mapping.finish(known: ["sourcePath", "targetKey"])
                    target.data.append(KeyMapping(sourcePath: source, targetKey: key))
                }
            }
            try secret.finish(known: ["namespace", "name", "type", "labels", "annotations", "data"])
        }
        let force = try root.string("forceSynchronization")
        // A file without writtenBy is root's: only root can write in secrets.d.
        var writtenBy = Privilege.root
        if let writer = try root.nonEmptyString("writtenBy") {
            guard let level = [Privilege.operator, .root].first(where: { $0.description == writer }) else {
                throw root.invalid("writtenBy", "expected operator or root, got \"\(writer)\"")
            }
            writtenBy = level
        }
        try root.finish(known: ["keyvaultName", "tenantId", "clientID", "serviceAccountName", "objects", "secretObject", "forceSynchronization",
                                "writtenBy"])

        let definition = SyncDefinition(name: name, source: .file(path: file), keyvaultName: vault, tenantId: tenant, clientId: client,
                                        serviceAccount: serviceAccount, objects: objects, target: target,
                                        forceSynchronization: force?.isEmpty == false ? force : nil, writtenBy: writtenBy)
        if let problem = SyncDefinitionValidator.problems(in: definition).first {
            throw ConfigurationError(file: file, key: problem.key, message: problem.message)
        }
        return definition
    }

    /// The YAML an `aiosctl secret add` writes; `parse` reads it back to the same definition.
    public static func render(_ definition: SyncDefinition) -> String {
        var lines = ["# Synced by aiosd: Key Vault -> Kubernetes Secret \(definition.target.namespace)/\(definition.target.name).",
                     "# Written by `aiosctl secret add`; see aiosctl(8). Edit, then: aiosctl config reload",
                     "keyvaultName: \(quote(definition.keyvaultName))"]
        if let tenant = definition.tenantId { lines.append("tenantId: \(quote(tenant))") }
        if let client = definition.clientId { lines.append("clientID: \(quote(client))") }
        if let account = definition.serviceAccount { lines.append("serviceAccountName: \(quote(account.description))") }
        lines.append("objects:")
        for object in definition.objects {
            lines.append("  - objectName: \(quote(object.objectName))")
            if object.objectType != .secret { lines.append("    objectType: \(object.objectType.rawValue)") }
            if let version = object.objectVersion { lines.append("    objectVersion: \(quote(version))") }
            if object.objectVersionHistory > 0 { lines.append("    objectVersionHistory: \(object.objectVersionHistory)") }
            if let alias = object.objectAlias { lines.append("    objectAlias: \(quote(alias))") }
            if object.objectEncoding != .utf8 { lines.append("    objectEncoding: \(object.objectEncoding.rawValue)") }
            if object.objectFormat != .pem { lines.append("    objectFormat: \(object.objectFormat.rawValue)") }
        }
        lines.append("secretObject:")
        lines.append("  namespace: \(quote(definition.target.namespace))")
        lines.append("  name: \(quote(definition.target.name))")
        lines.append("  type: \(quote(definition.target.type.rawValue))")
        for (title, map) in [("labels", definition.target.labels), ("annotations", definition.target.annotations)] where !map.isEmpty {
            lines.append("  \(title):")
            for key in map.keys.sorted() { lines.append("    \(quote(key)): \(quote(map[key]!))") }
        }
        if !definition.target.data.isEmpty {
            lines.append("  data:")
            for mapping in definition.target.data {
                lines.append("    - sourcePath: \(quote(mapping.sourcePath))")
                lines.append("      targetKey: \(quote(mapping.targetKey))")
            }
        }
        if let force = definition.forceSynchronization { lines.append("forceSynchronization: \(quote(force))") }
        if definition.writtenBy < .root {
            lines.append("# An operator's definition: bounded by secrets.* and the identity rule of aiosd(8) PRIVILEGE LEVELS.")
            lines.append("writtenBy: operator")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A double-quoted YAML scalar: safe for any single-line text (validated beforehand).
    private static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16, uppercase: true)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
