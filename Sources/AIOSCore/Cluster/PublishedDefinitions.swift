import Foundation

/// The definitions of `/etc/aios/secrets.d` published to the cluster, so the leader syncs every server's files,
/// also while the server a secret was added on is down. Each is a Secret `kube-system/aios-definition-NAME`
/// (admins only, like the files' vault and tenant names) holding the definition, rendered canonically, in an
/// annotation (one list call reads them all; there is no value in a definition), and the node that published it.
///
/// Rules: a node publishes each of its files that the cluster lacks, and updates or deletes (file removed) only
/// the copies it published itself. The same name published by another node with other content is a conflict:
/// the first publisher's copy stays in force and the other node reports its file as not published.
public enum PublishedDefinitions {
    public static let namePrefix = "aios-definition-"
    public static let roleValue = "definition"
    public static let definitionAnnotation = "aios.microsoft.com/definition"
    public static let publisherAnnotation = "aios.microsoft.com/published-by"
    public static let selector = "\(SecretSyncEngine.managedByLabel)=\(SecretSyncEngine.managedByValue),\(ClusterHashKey.roleLabel)=\(roleValue)"

    /// A published definition.
    public struct Copy: Sendable, Equatable {
        public var name: String
        public var text: String
        public var publisher: String
        public var uid: String
    }

    public enum Action: Sendable, Equatable {
        case create(name: String, text: String)
        case update(name: String, text: String)
        case delete(name: String, uid: String)
        /// This node's file differs from the copy another node published: left unpublished.
        case conflict(name: String, publisher: String)
    }

    public static func secretName(for definition: String) -> String { namePrefix + definition }

    /// What `node` must change so the cluster holds its files (`name` → canonical text).
    public static func plan(node: String, files: [String: String], published: [String: Copy]) -> [Action] {
        var actions: [Action] = []
        for (name, text) in files.sorted(by: { $0.key < $1.key }) {
            guard KubernetesNames.isSubdomain(secretName(for: name)) else { continue }
            guard let copy = published[name] else { actions.append(.create(name: name, text: text)); continue }
            if copy.text == text { continue }
            actions.append(copy.publisher == node ? .update(name: name, text: text) : .conflict(name: name, publisher: copy.publisher))
        }
        for (name, copy) in published.sorted(by: { $0.key < $1.key }) where copy.publisher == node && files[name] == nil {
            actions.append(.delete(name: name, uid: copy.uid))
        }
        return actions
    }

    /// Every published copy, by definition name.
    public static func list(_ kubernetes: KubernetesClient) throws(KubernetesError) -> [String: Copy] {
        var copies: [String: Copy] = [:]
        for secret in try kubernetes.listSecrets(labelSelector: selector)
        where secret.namespace == LeaderElectionSettings.namespace && secret.name.hasPrefix(namePrefix) {
            guard let text = secret.annotations[definitionAnnotation] else { continue }
            let name = String(secret.name.dropFirst(namePrefix.count))
            copies[name] = Copy(name: name, text: text, publisher: secret.annotations[publisherAnnotation] ?? "", uid: secret.uid)
        }
        return copies
    }

    /// Carries out `actions` (conflicts are only reported); returns the conflicts.
    @discardableResult
    public static func apply(_ actions: [Action], node: String, to kubernetes: KubernetesClient) throws(KubernetesError) -> [Action] {
        let namespace = LeaderElectionSettings.namespace
        let labels = [SecretSyncEngine.managedByLabel: SecretSyncEngine.managedByValue, ClusterHashKey.roleLabel: roleValue]
        var conflicts: [Action] = []
        for action in actions {
            switch action {
            case .create(let name, let text):
                // nil: another node published the name first; its copy is seen at the next round.
                _ = try kubernetes.createSecret(namespace: namespace, name: secretName(for: name), type: "Opaque", labels: labels,
                                                annotations: [definitionAnnotation: text, publisherAnnotation: node], data: [:])
            case .update(let name, let text):
                try kubernetes.applySecret(namespace: namespace, name: secretName(for: name), type: "Opaque", labels: labels,
                                           annotations: [definitionAnnotation: text, publisherAnnotation: node], data: [:])
            case .delete(let name, let uid):
                try kubernetes.deleteSecret(namespace: namespace, name: secretName(for: name), uid: uid)
            case .conflict:
                conflicts.append(action)
            }
        }
        return conflicts
    }
}
