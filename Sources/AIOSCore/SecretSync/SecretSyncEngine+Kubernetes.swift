import FoundationEssentials

/// The Kubernetes side of a sync: writing a definition's Secret (create, or server-side apply when its content
/// hash differs or the Secret was edited by someone else), and deleting it, only ever when aiosd created it.
extension SecretSyncEngine {
    /// Why a write was not made: this node stopped leading (or never led) since the cycle began.
    public static let notLeader = SyncIssue(code: "NotLeader", message: "this node does not hold the sync Lease (or could not renew it in time); it writes nothing",
                                            hint: "aiosctl cluster status (the leader syncs)")

    /// Throws `notLeader` unless this node may write now: called right before every write to the API server.
    public func checkFence() throws(SyncIssue) {
        guard mayWrite() else { throw Self.notLeader }
    }

    /// Deletes the definition's target Secret if aiosd created it (for `aiosctl secret remove --delete-target`).
    public func deleteTarget(of definition: SyncDefinition, configuration: AgentConfiguration) throws(SyncIssue) -> Bool {
        let kubernetes = try connections.kubernetes(configuration: configuration.sync)
        let target = definition.target
        let existing: KubernetesClient.SecretSummary?
        do {
            existing = try kubernetes.getSecret(namespace: target.namespace, name: target.name)
        } catch {
            throw SyncIssue(code: "KubernetesError", message: error.description)
        }
        guard let existing else { return false }
        guard Self.isOwned(existing, by: definition) else {
            throw SyncIssue(code: "TargetNotOwned", message: "Secret \(target.namespace)/\(target.name) was not created by aiosd for \(definition.name); it was left alone")
        }
        try checkFence()
        do {
            try kubernetes.deleteSecret(namespace: target.namespace, name: target.name, uid: existing.uid)
        } catch {
            throw SyncIssue(code: "KubernetesError", message: error.description)
        }
        return true
    }

    /// Secrets aiosd created for SecretSyncs that no longer exist (deleted while aiosd was stopped, before their
    /// Secrets carried an owner reference): the Secrets in `secrets` labelled as synced from SecretSync NS/NAME
    /// for a key not in `existing`.
    static func orphans(_ secrets: [KubernetesClient.SecretSummary], existing: Set<String>) -> [KubernetesClient.SecretSummary] {
        secrets.filter { secret in
            secret.labels[managedByLabel] == managedByValue && secret.labels[sourceLabel] == "cluster"
                && secret.labels[definitionLabel] == secret.name && !existing.contains("\(secret.namespace)/\(secret.name)")
        }
    }

    /// Deletes the orphans (see `orphans`) given the SecretSyncs that exist now; returns the deleted Secrets' keys.
    public func deleteOrphanedClusterSecrets(existing: Set<String>, configuration: AgentConfiguration) throws(SyncIssue) -> [String] {
        let kubernetes = try connections.kubernetes(configuration: configuration.sync)
        var deleted: [String] = []
        do {
            let owned = try kubernetes.listSecrets(labelSelector: "\(Self.ownerSelector),\(Self.sourceLabel)=cluster")
            for secret in Self.orphans(owned, existing: existing) {
                guard mayWrite() else { throw Self.notLeader }
                try kubernetes.deleteSecret(namespace: secret.namespace, name: secret.name, uid: secret.uid)
                deleted.append("\(secret.namespace)/\(secret.name)")
            }
        } catch let issue as SyncIssue {
            throw issue
        } catch let error as KubernetesError {
            throw SyncIssue(code: "KubernetesError", message: error.description)
        } catch {
            throw SyncIssue(code: "InternalError", message: "\(error)")
        }
        return deleted
    }

    /// The outcome of a definition none of whose objects changed in the vault, told without its values: unchanged
    /// while its Secret is the one aiosd wrote (same resourceVersion), or, when someone else wrote it since, while
    /// the Secret's type and aiosd's keys in it still hash to what aiosd wrote (keys someone else added are theirs).
    /// Nil when the Secret's data differs (or cannot be compared): its values are read again and it is restored.
    func confirmUnchanged(_ definition: SyncDefinition, status: inout SyncDefinitionStatus, target: KubernetesClient.SecretSummary?,
                          kubernetes: KubernetesClient, hasher: ContentHasher, started: Date) -> SyncOutcome? {
        let type = definition.target.type.rawValue
        guard let target, Self.isOwned(target, by: definition), let written = status.targetHash,
              target.annotations[Self.hashAnnotation] == written, target.type ?? type == type else { return nil }
        if status.targetResourceVersion != target.resourceVersion {
            let live: KubernetesClient.SecretContent?
            do {
                live = try kubernetes.getSecretContent(namespace: target.namespace, name: target.name)
            } catch {
                let issue = SyncIssue(code: "KubernetesError", message: error.description, hint: "check K3s: systemctl status k3s")
                status.issue = issue
                return SyncOutcome(name: definition.name, result: .failed, seconds: Date().timeIntervalSince(started), fetched: 0, issue: issue)
            }
            let keys = Self.targetKeys(of: definition)
            guard let live, live.type == type, hasher.hash(type: type, data: live.data.filter { keys.contains($0.key) }) == written else { return nil }
            status.targetResourceVersion = live.resourceVersion
        }
        status.targetDeleted = false
        status.issue = nil
        status.lastSuccess = Date()
        return SyncOutcome(name: definition.name, result: .unchanged, seconds: Date().timeIntervalSince(started), fetched: 0, issue: nil)
    }

    /// The keys aiosd writes in the definition's Secret (what `apply` puts in its data).
    static func targetKeys(of definition: SyncDefinition) -> Set<String> {
        var keys: Set<String> = []
        for mapping in definition.effectiveMappings {
            if definition.target.type == .tls && mapping.targetKey == "tls.key" { continue }  // filled with tls.crt
            keys.insert(mapping.targetKey)
            if definition.target.type == .tls && mapping.targetKey == "tls.crt" { keys.insert("tls.key") }
        }
        return keys
    }

    func apply(_ definition: SyncDefinition, outputs: [String: [UInt8]], status: inout SyncDefinitionStatus,
               target: KubernetesClient.SecretSummary?, knownAbsent: Bool = false, kubernetes: KubernetesClient, hasher: ContentHasher,
               fetched: Int, force: Bool, started: Date) -> SyncOutcome {
        func finish(_ result: SyncOutcome.Result, _ issue: SyncIssue? = nil) -> SyncOutcome {
            status.issue = issue
            if issue == nil { status.lastSuccess = Date() }
            return SyncOutcome(name: definition.name, result: result, seconds: Date().timeIntervalSince(started), fetched: fetched, issue: issue)
        }
        var data: [String: [UInt8]] = [:]
        for mapping in definition.effectiveMappings {
            guard let bytes = outputs[mapping.sourcePath] else {
                return finish(.failed, SyncIssue(code: "SourcePathMissing", message: "\(mapping.sourcePath) was not produced (fewer versions in the vault than objectVersionHistory?)"))
            }
            if definition.target.type == .tls && mapping.targetKey == "tls.key" { continue }  // filled with tls.crt
            if definition.target.type == .tls && mapping.targetKey == "tls.crt" {
                do {
                    let pair = try ObjectContent.tlsPair(fromPEM: bytes, sourcePath: mapping.sourcePath)
                    data["tls.crt"] = pair.certificate
                    data["tls.key"] = pair.key
                } catch {
                    return finish(.failed, error)
                }
            } else {
                data[mapping.targetKey] = bytes
            }
        }
        let type = definition.target.type.rawValue
        let hash = hasher.hash(type: type, data: data)
        let secretName = "\(definition.target.namespace)/\(definition.target.name)"
        if let target, Self.isOwned(target, by: definition), target.annotations[Self.hashAnnotation] == hash, target.type ?? type == type {
            // The annotation says what aiosd wrote, not what the Secret holds now: a Secret written by someone else
            // since (another resourceVersion), or any Secret under --force, is read and its type and keys compared
            // (keys someone else added are theirs: server-side apply leaves them, so they are no drift). The type
            // is immutable, so an unmoved resourceVersion also means the type aiosd wrote.
            var current = !force && status.targetResourceVersion == target.resourceVersion
            if !current {
                do {
                    if let live = try kubernetes.getSecretContent(namespace: target.namespace, name: target.name),
                       live.type == type, data.allSatisfy({ live.data[$0.key] == $0.value }) {
                        status.targetResourceVersion = live.resourceVersion
                        current = true
                    }
                } catch {
                    return finish(.failed, SyncIssue(code: "KubernetesError", message: error.description, hint: "check K3s: systemctl status k3s"))
                }
            }
            if current {
                status.targetHash = hash
                status.targetDeleted = false
                return finish(.unchanged)
            }
            logger.warning("Secret edited outside aiosd; restoring it", metadata: ["secret": "\(definition.name)", "target": "\(secretName)"])
        }
        if let target, !Self.isOwned(target, by: definition) {
            return finish(.failed, SyncIssue(code: "TargetNotOwned", message: "Secret \(secretName) belongs to another definition (\(target.labels[Self.sourceLabel] ?? "file") \(target.labels[Self.definitionLabel] ?? "?")); not touched",
                                             hint: "give one of the definitions another secretObject.name"))
        }
        var labels = definition.target.labels
        labels[Self.managedByLabel] = Self.managedByValue
        labels[Self.definitionLabel] = definition.ownerLabelValue
        labels[Self.sourceLabel] = definition.source.kind
        var annotations = definition.target.annotations
        annotations[Self.hashAnnotation] = hash
        annotations[Self.vaultAnnotation] = definition.keyvaultName
        if let problem = Self.formatProblem(type: definition.target.type, data: data) {
            return finish(.failed, problem)
        }
        guard mayWrite() else { return finish(.failed, Self.notLeader) }
        let written: String
        do {
            guard let version = try kubernetes.applySecret(namespace: definition.target.namespace, name: definition.target.name, type: type,
                                                           labels: labels, annotations: annotations, owner: Self.owner(of: definition),
                                                           data: data, createOnly: target == nil, knownAbsent: knownAbsent) else {
                // Not labelled as ours: someone else's Secret is never taken over.
                return finish(.failed, SyncIssue(code: "TargetNotOwned", message: "Secret \(secretName) exists and was not created by aiosd; it is left alone",
                                                 hint: "choose another name (secretObject.name), or delete that Secret if it is obsolete"))
            }
            written = version
        } catch {
            var hint = "check K3s: systemctl status k3s"
            if error.code == 404 { hint = "create the namespace: kubectl create namespace \(definition.target.namespace)" }
            if error.code == 422 && target != nil { hint = "the Secret's type cannot change; delete it and sync again: aiosctl secret remove --delete-target" }
            return finish(.failed, SyncIssue(code: "KubernetesError", message: error.description, hint: hint))
        }
        status.targetHash = hash
        status.targetResourceVersion = written
        status.targetDeleted = false
        status.lastApplied = Date()
        return finish(.applied)
    }

    /// The SecretSync a cluster definition's Secret belongs to (as the controller sets it), so Kubernetes'
    /// garbage collector removes the Secret with it.
    static func owner(of definition: SyncDefinition) -> KubernetesClient.OwnerReference? {
        guard case .cluster(let origin) = definition.source, !origin.uid.isEmpty, origin.ownedBySecretSync else { return nil }
        return .init(apiVersion: ClusterObjects.secretSyncGroupVersion, kind: "SecretSync", name: origin.secretSync, uid: origin.uid)
    }

    /// What the API server would refuse with 422, said before writing: a docker config Secret must hold JSON.
    static func formatProblem(type: TargetSecret.SecretType, data: [String: [UInt8]]) -> SyncIssue? {
        let key: String
        switch type {
        case .dockerConfigJSON: key = ".dockerconfigjson"
        case .dockerConfig: key = ".dockercfg"
        default: return nil
        }
        guard let bytes = data[key] else {
            return SyncIssue(code: "InvalidSecretContent", message: "a \(type.rawValue) Secret needs the key \(key)",
                             hint: "map the registry credentials to targetKey \(key)")
        }
        guard JSONValue.object(parsing: bytes) != nil else {
            return SyncIssue(code: "InvalidSecretContent", message: "\(key) is not a JSON object, as a \(type.rawValue) Secret must be (the value is not shown)",
                             hint: "store the registry credentials in the vault as JSON (docker config format)")
        }
        return nil
    }

    func deleteGone(_ definition: SyncDefinition, status: inout SyncDefinitionStatus, target: KubernetesClient.SecretSummary?,
                            kubernetes: KubernetesClient, issue: SyncIssue, started: Date) -> SyncOutcome {
        if let target, Self.isOwned(target, by: definition) {
            guard mayWrite() else {
                status.issue = Self.notLeader
                return SyncOutcome(name: definition.name, result: .failed, seconds: Date().timeIntervalSince(started), fetched: 0, issue: Self.notLeader)
            }
            do {
                try kubernetes.deleteSecret(namespace: target.namespace, name: target.name, uid: target.uid)
            } catch {
                let failure = SyncIssue(code: "KubernetesError", message: error.description)
                status.issue = failure
                return SyncOutcome(name: definition.name, result: .failed, seconds: Date().timeIntervalSince(started), fetched: 0, issue: failure)
            }
        }
        status.targetDeleted = true
        status.targetHash = nil
        status.targetResourceVersion = nil
        status.issue = nil
        return SyncOutcome(name: definition.name, result: .deleted, seconds: Date().timeIntervalSince(started), fetched: 0, issue: issue)
    }
}
