import FoundationEssentials

/// The definitions of `/etc/aios/secrets.d` published to the cluster, so the leader syncs every server's files,
/// also while the server a secret was added on is down. Each is a Lease `kube-system/aios-definition-NAME` held by
/// the node that published it, carrying the definition (rendered canonically; there is no value in a
/// definition) in an annotation: one list call reads them all, and they are not Secrets, so a count of Secret
/// writes stays a count of synced Secrets. (A ConfigMap would be the usual home; the K3s stand-in the tests run
/// against serves Leases, not ConfigMaps, and a Lease's holder names the publisher natively.)
///
/// Rules: a node publishes each of its files that the cluster lacks, and updates or deletes (file removed) only
/// the copies it published itself. The same name published by another node with other content is a conflict:
/// the first publisher's copy stays in force and the other node reports its file as not published.
///
/// Removal (`aiosctl secret remove` on any server) marks the copy removed (annotation `removed-by`) instead of
/// deleting it: no node syncs a removed copy, and every server holding a file with exactly that content removes
/// its file when it next looks (at once on the server asked, else at its next heartbeat or start), so a server
/// that was down cannot publish the definition again. The marker stays until the name is added again.
public enum PublishedDefinitions {
    public static let namePrefix = "aios-definition-"
    public static let roleValue = "definition"
    public static let definitionAnnotation = "aios.microsoft.com/definition"
    /// The node whose `secret remove` removed the definition (the copy then only marks it removed).
    public static let removedByAnnotation = "aios.microsoft.com/removed-by"
    public static let selector = "\(SecretSyncEngine.managedByLabel)=\(SecretSyncEngine.managedByValue),\(ClusterHashKey.roleLabel)=\(roleValue)"

    /// A published definition.
    public struct Copy: Sendable, Equatable {
        public var name: String
        public var text: String
        public var publisher: String
        /// The Lease's resourceVersion (an update carries it).
        public var version: String
        /// Set when the definition was removed (by that node): not in force anywhere.
        public var removedBy: String?

        public init(name: String, text: String, publisher: String, version: String, removedBy: String? = nil) {
            self.name = name
            self.text = text
            self.publisher = publisher
            self.version = version
            self.removedBy = removedBy
        }
    }

    public enum Action: Sendable, Equatable {
        case create(name: String, text: String)
        case update(name: String, text: String, version: String)
        case delete(name: String)
        /// This node's file differs from the copy another node published: left unpublished.
        case conflict(name: String, publisher: String)
        /// The definition was removed in the cluster and this node's file has its content: remove the file.
        case removeFile(name: String, removedBy: String)
    }

    public static func leaseName(for definition: String) -> String { namePrefix + definition }

    /// What `node` must change so the cluster holds its files (`name` → canonical text).
    public static func plan(node: String, files: [String: String], published: [String: Copy]) -> [Action] {
        var actions: [Action] = []
        for (name, text) in files.sorted(by: { $0.key < $1.key }) {
            guard KubernetesNames.isSubdomain(leaseName(for: name)) else { continue }
            guard let copy = published[name] else { actions.append(.create(name: name, text: text)); continue }
            if let removedBy = copy.removedBy {
                // The removed definition's file goes; a file with other content is a new definition.
                actions.append(copy.text == text ? .removeFile(name: name, removedBy: removedBy) : .update(name: name, text: text, version: copy.version))
                continue
            }
            if copy.text == text { continue }
            actions.append(copy.publisher == node ? .update(name: name, text: text, version: copy.version)
                                                  : .conflict(name: name, publisher: copy.publisher))
        }
        for (name, copy) in published.sorted(by: { $0.key < $1.key }) where copy.publisher == node && copy.removedBy == nil && files[name] == nil {
            actions.append(.delete(name: name))
        }
        return actions
    }

    /// Every published copy, by definition name.
    public static func list(_ leases: any LeaseClient) throws(KubernetesError) -> [String: Copy] {
        copies(of: try leases.listLeases(namespace: LeaderElectionSettings.namespace, labelSelector: selector))
    }

    /// The copies among `leases` (by Lease name), by definition name.
    static func copies(of leases: [String: LeaseRecord]) -> [String: Copy] {
        var copies: [String: Copy] = [:]
        for (leaseName, lease) in leases where leaseName.hasPrefix(namePrefix) {
            let name = String(leaseName.dropFirst(namePrefix.count))
            copies[name] = copy(name, from: lease)
        }
        return copies
    }

    /// Points each copy whose text is this node's own text at that same string: the copies are kept between
    /// reads, and at 10,000 definitions a second instance of every text was 4 MB (heaptrack).
    public static func shareTexts(of copies: inout [String: Copy], with files: [String: String]) {
        // By index, in place: iterating the dictionary while assigning would copy its storage.
        var index = copies.startIndex
        while index != copies.endIndex {
            if let text = files[copies.keys[index]], text == copies.values[index].text { copies.values[index].text = text }
            index = copies.index(after: index)
        }
    }

    /// The published copy of `name` (one Lease read), nil if there is none.
    public static func copy(named name: String, in leases: any LeaseClient) throws(KubernetesError) -> Copy? {
        try leases.getLease(namespace: LeaderElectionSettings.namespace, name: leaseName(for: name)).flatMap { lease in
            // What the list's selector asks for.
            lease.labels[SecretSyncEngine.managedByLabel] == SecretSyncEngine.managedByValue && lease.labels[ClusterHashKey.roleLabel] == roleValue
                ? copy(name, from: lease) : nil
        }
    }

    static func copy(_ name: String, from lease: LeaseRecord) -> Copy? {
        guard let text = lease.annotations[definitionAnnotation] else { return nil }
        return Copy(name: name, text: text, publisher: lease.holderIdentity ?? "", version: lease.resourceVersion,
                    removedBy: lease.annotations[removedByAnnotation])
    }

    /// Marks `copy` removed by `node` (the holder and the content stay, so servers holding that file remove it);
    /// false when the copy changed since it was read (409: list again).
    public static func markRemoved(_ copy: Copy, by node: String, in leases: any LeaseClient, at time: Date = Date()) throws(KubernetesError) -> Bool {
        let record = LeaseRecord(holderIdentity: copy.publisher, acquireTime: time, renewTime: time,
                                 labels: [SecretSyncEngine.managedByLabel: SecretSyncEngine.managedByValue, ClusterHashKey.roleLabel: roleValue],
                                 annotations: [definitionAnnotation: copy.text, removedByAnnotation: node], resourceVersion: copy.version)
        do {
            _ = try leases.updateLease(namespace: LeaderElectionSettings.namespace, name: leaseName(for: copy.name), record)
            return true
        } catch where error.code == 409 {
            return false
        }
    }

    /// Carries out `actions` at `time` (conflicts and file removals are only reported); returns those.
    @discardableResult
    public static func apply(_ actions: [Action], node: String, to leases: any LeaseClient, at time: Date = Date()) throws(KubernetesError) -> [Action] {
        let namespace = LeaderElectionSettings.namespace
        func record(_ text: String, version: String) -> LeaseRecord {
            LeaseRecord(holderIdentity: node, acquireTime: time, renewTime: time,
                        labels: [SecretSyncEngine.managedByLabel: SecretSyncEngine.managedByValue, ClusterHashKey.roleLabel: roleValue],
                        annotations: [definitionAnnotation: text], resourceVersion: version)
        }
        var conflicts: [Action] = []
        for action in actions {
            do {
                switch action {
                case .create(let name, let text):
                    _ = try leases.createLease(namespace: namespace, name: leaseName(for: name), record(text, version: ""))
                case .update(let name, let text, let version):
                    _ = try leases.updateLease(namespace: namespace, name: leaseName(for: name), record(text, version: version))
                case .delete(let name):
                    try leases.deleteLease(namespace: namespace, name: leaseName(for: name))
                case .conflict, .removeFile:
                    conflicts.append(action)
                }
            } catch where error.code == 409 {
                // Another node published the name first (or changed it since the list): seen at the next round.
                continue
            }
        }
        return conflicts
    }
}
