import FoundationEssentials

/// The Secret Synchronization Controller's objects as aiosd reads them from the API server: a `SecretSync`
/// (`secret-sync.x-k8s.io/v1alpha1`) and the `SecretProviderClass` (`secrets-store.csi.x-k8s.io/v1`,
/// provider `azure`) it names in the same namespace.
public enum ClusterObjects {
    public static let secretSyncGroupVersion = "secret-sync.x-k8s.io/v1alpha1"
    public static let providerClassGroupVersion = "secrets-store.csi.x-k8s.io/v1"
    public static let secretSyncsPath = "/apis/secret-sync.x-k8s.io/v1alpha1/secretsyncs"
    public static let providerClassesPath = "/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasses"

    public static func secretSyncPath(namespace: String, name: String) -> String {
        "/apis/secret-sync.x-k8s.io/v1alpha1/namespaces/\(namespace)/secretsyncs/\(name)"
    }

    /// The fields of a SecretSync that matter to aiosd.
    public struct SecretSync: Sendable, Equatable {
        public var namespace: String
        public var name: String
        public var uid: String
        public var generation: Int
        public var resourceVersion: String
        public var labels: [String: String]
        public var secretProviderClassName: String?
        public var serviceAccountName: String?
        public var secretType: String?
        public var data: [(sourcePath: String, targetKey: String)]?
        public var secretLabels: [String: String]
        public var secretAnnotations: [String: String]
        public var forceSynchronization: String?
        /// The status as the object has it now, as JSON (to write only what changes).
        public var status: Data?

        public var key: String { "\(namespace)/\(name)" }

        public static func == (a: SecretSync, b: SecretSync) -> Bool {
            a.key == b.key && a.uid == b.uid && a.resourceVersion == b.resourceVersion
        }

        public init?(json: Data) {
            guard let root = JSONValue.object(parsing: json), let metadata = root["metadata"]?.object,
                  let name = metadata["name"]?.string, let namespace = metadata["namespace"]?.string else { return nil }
            self.name = name
            self.namespace = namespace
            uid = metadata["uid"]?.string ?? ""
            generation = metadata["generation"]?.int ?? 0
            resourceVersion = metadata["resourceVersion"]?.string ?? ""
            labels = metadata["labels"]?.stringObject ?? [:]
            let spec = root["spec"]?.object ?? [:]
            secretProviderClassName = spec["secretProviderClassName"]?.string
            serviceAccountName = spec["serviceAccountName"]?.string
            forceSynchronization = spec["forceSynchronization"]?.string
            let object = spec["secretObject"]?.object ?? [:]
            secretType = object["type"]?.string
            secretLabels = object["labels"]?.stringObject ?? [:]
            secretAnnotations = object["annotations"]?.stringObject ?? [:]
            data = object["data"]?.objectArray?.map { ($0["sourcePath"]?.string ?? "", $0["targetKey"]?.string ?? "") }
            // Only an object or array is a document of its own (as JSONSerialization wrote it); null is no status.
            status = root["status"].flatMap { $0.object == nil && $0.array == nil ? nil : try? $0.encoded(sortedKeys: true) }
        }
    }

    /// The fields of an azure SecretProviderClass that matter to aiosd.
    public struct ProviderClass: Sendable, Equatable {
        public var namespace: String
        public var name: String
        public var resourceVersion: String
        public var provider: String?
        public var parameters: [String: String]

        public var key: String { "\(namespace)/\(name)" }

        public init?(json: Data) {
            guard let root = JSONValue.object(parsing: json), let metadata = root["metadata"]?.object,
                  let name = metadata["name"]?.string, let namespace = metadata["namespace"]?.string else { return nil }
            self.name = name
            self.namespace = namespace
            resourceVersion = metadata["resourceVersion"]?.string ?? ""
            let spec = root["spec"]?.object ?? [:]
            provider = spec["provider"]?.string
            parameters = (spec["parameters"]?.object ?? [:]).compactMapValues(\.string)
        }
    }

    /// The definition a SecretSync and its SecretProviderClass stand for, or what is wrong with them.
    /// `allowedNamespaces`: `cluster.allowedNamespaces` (nil = every namespace).
    public static func definition(_ sync: SecretSync, providerClass: ProviderClass?,
                                  allowedNamespaces: Set<String>? = nil) throws(SyncIssue) -> SyncDefinition {
        func invalid(_ message: String) -> SyncIssue {
            SyncIssue(code: "SecretProviderClassMisconfigured", message: "SecretSync \(sync.key): \(message)",
                      hint: "kubectl -n \(sync.namespace) edit secretsync \(sync.name)")
        }
        if let allowedNamespaces, !allowedNamespaces.contains(sync.namespace) {
            throw SyncIssue(code: "NamespaceNotAllowed",
                            message: "SecretSync \(sync.key): namespace \(sync.namespace) is not in cluster.allowedNamespaces of /etc/aios/aiosd.yaml",
                            hint: "add \(sync.namespace) to cluster.allowedNamespaces in /etc/aios/aiosd.yaml, then: aiosctl config reload")
        }
        guard let className = sync.secretProviderClassName, !className.isEmpty else {
            throw invalid("spec.secretProviderClassName is required")
        }
        guard let providerClass else {
            throw SyncIssue(code: "SecretProviderClassMisconfigured",
                            message: "SecretSync \(sync.key): SecretProviderClass \(sync.namespace)/\(className) does not exist",
                            hint: "kubectl -n \(sync.namespace) get secretproviderclass")
        }
        guard providerClass.provider == "azure" else {
            throw invalid("SecretProviderClass \(providerClass.key) has provider \"\(providerClass.provider ?? "")\"; aiosd syncs provider azure only")
        }
        // The Azure provider trims keyvaultName, clientID, tenantID and every field of an object.
        let parameters = providerClass.parameters.mapValues { $0.trimmingWhitespaceAndNewlines() }
        for mode in ["usePodIdentity", "useVMManagedIdentity"] where parameters[mode]?.lowercased() == "true" {
            throw invalid("SecretProviderClass \(providerClass.key) sets \(mode); aiosd syncs SecretSyncs with workload identity only")
        }
        guard let vault = parameters["keyvaultName"], !vault.isEmpty else {
            throw invalid("SecretProviderClass \(providerClass.key) has no parameters.keyvaultName")
        }
        guard let account = sync.serviceAccountName, !account.isEmpty else { throw invalid("spec.serviceAccountName is required") }
        let declared = try ProviderClassObjects.shared.objects(of: providerClass)
        var target = TargetSecret(namespace: sync.namespace, name: sync.name)
        if let type = sync.secretType, !type.isEmpty {
            guard let parsed = TargetSecret.SecretType(rawValue: type) else {
                throw invalid("spec.secretObject.type \"\(type)\" is not a Secret type aiosd syncs (\(TargetSecret.SecretType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            target.type = parsed
        }
        guard let data = sync.data, !data.isEmpty else { throw invalid("spec.secretObject.data needs at least one sourcePath/targetKey") }
        target.data = data.map { KeyMapping(sourcePath: $0.sourcePath, targetKey: $0.targetKey) }
        // Only the objects this SecretSync maps are read (the provider mounts them all; aiosd fetches what is used).
        let used = Set(target.data.map(\.sourcePath))
        var objects = declared.filter { !Set($0.sourcePaths).isDisjoint(with: used) }
        if objects.isEmpty { objects = declared }
        target.labels = sync.secretLabels
        target.annotations = sync.secretAnnotations
        let origin = SyncDefinition.ClusterOrigin(namespace: sync.namespace, secretSync: sync.name, secretProviderClass: providerClass.name,
                                                  uid: sync.uid, generation: sync.generation, resourceVersion: sync.resourceVersion)
        let definition = SyncDefinition(
            name: sync.key, source: .cluster(origin), keyvaultName: vault,
            tenantId: Self.parameter(parameters, preferred: "tenantID", deprecated: "tenantId"),
            clientId: Self.parameter(parameters, preferred: "clientID", deprecated: "clientId"),
            serviceAccount: ServiceAccountReference(namespace: sync.namespace, name: account),
            objects: objects, target: target, forceSynchronization: sync.forceSynchronization)
        if let problem = SyncDefinitionValidator.problems(in: definition).first {
            throw invalid(problem.description)
        }
        return definition
    }

    /// A parameter under its current name, else under its older spelling (the provider prefers `tenantID` over
    /// `tenantId` when both are set); empty counts as unset.
    static func parameter(_ parameters: [String: String], preferred: String, deprecated: String) -> String? {
        if let value = parameters[preferred], !value.isEmpty { return value }
        if let value = parameters[deprecated], !value.isEmpty { return value }
        return nil
    }
}
