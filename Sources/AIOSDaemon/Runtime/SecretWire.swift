import AIOSAPI
import AIOSCore
import FoundationEssentials

/// Translation between the domain's sync types and the control API's (the domain never sees wire types).
enum SecretWire {
    static func info(_ definition: SyncDefinition) -> SecretDefinitionInfo {
        return SecretDefinitionInfo(
            name: definition.name, source: definition.source.kind, origin: origin(definition.source), keyvaultName: definition.keyvaultName,
            tenantId: definition.tenantId, clientID: definition.clientId, serviceAccountName: definition.serviceAccount?.description,
            objects: definition.objects.map {
                .init(objectName: $0.objectName, objectType: $0.objectType.rawValue, objectVersion: $0.objectVersion,
                      objectVersionHistory: $0.objectVersionHistory > 0 ? $0.objectVersionHistory : nil, objectAlias: $0.objectAlias,
                      objectEncoding: $0.objectEncoding.rawValue, objectFormat: $0.objectFormat.rawValue)
            },
            secretObject: .init(namespace: definition.target.namespace, name: definition.target.name, type: definition.target.type.rawValue,
                                labels: definition.target.labels.isEmpty ? nil : definition.target.labels,
                                annotations: definition.target.annotations.isEmpty ? nil : definition.target.annotations,
                                data: definition.effectiveMappings.map { .init(sourcePath: $0.sourcePath, targetKey: $0.targetKey) }),
            forceSynchronization: definition.forceSynchronization)
    }

    /// Where a definition comes from, in words.
    static func origin(_ source: SyncDefinition.Source) -> String {
        switch source {
        case .file(let path): path
        case .cluster(let origin):
            "SecretSync \(origin.namespace)/\(origin.secretSync) (generation \(origin.generation)) with SecretProviderClass \(origin.namespace)/\(origin.secretProviderClass)"
        }
    }

    /// The domain definition for a request, or a `bad_request` naming every problem.
    static func definition(_ info: SecretDefinitionInfo, file: String, defaultNamespace: String) throws(APIError) -> SyncDefinition {
        func bad(_ message: String) -> APIError {
            APIError(code: .badRequest, message: "refused, nothing written: \(message)", hint: "see: aiosctl secret add --help")
        }
        var objects: [SyncObject] = []
        for (index, spec) in info.objects.enumerated() {
            var object = SyncObject(objectName: spec.objectName)
            if let text = spec.objectType {
                guard let type = SyncObject.ObjectType(rawValue: text) else { throw bad("objects[\(index)].objectType: expected secret or cert, got \"\(text)\"") }
                object.objectType = type
            }
            if let text = spec.objectEncoding {
                guard let encoding = SyncObject.Encoding(rawValue: text) else {
                    throw bad("objects[\(index)].objectEncoding: expected utf-8, hex or base64, got \"\(text)\"")
                }
                object.objectEncoding = encoding
            }
            if let text = spec.objectFormat {
                guard let format = SyncObject.Format(rawValue: text) else { throw bad("objects[\(index)].objectFormat: expected pem or pfx, got \"\(text)\"") }
                object.objectFormat = format
            }
            object.objectVersion = spec.objectVersion?.isEmpty == true ? nil : spec.objectVersion
            if let history = spec.objectVersionHistory {
                guard (0...25).contains(history) else { throw bad("objects[\(index)].objectVersionHistory: expected 0 to 25") }
                object.objectVersionHistory = history
            }
            object.objectAlias = spec.objectAlias
            objects.append(object)
        }
        guard !objects.isEmpty else { throw bad("at least one object is needed") }
        let secret = info.secretObject
        var target = TargetSecret(namespace: secret.namespace ?? defaultNamespace, name: secret.name ?? info.name)
        if let text = secret.type {
            guard let type = TargetSecret.SecretType(rawValue: text) else {
                throw bad("secretObject.type: expected Opaque or kubernetes.io/tls, got \"\(text)\"")
            }
            target.type = type
        }
        target.labels = secret.labels ?? [:]
        target.annotations = secret.annotations ?? [:]
        target.data = (secret.data ?? []).map { KeyMapping(sourcePath: $0.sourcePath, targetKey: $0.targetKey) }
        var account: ServiceAccountReference?
        if let text = info.serviceAccountName {
            guard let parsed = ServiceAccountReference(parsing: text) else { throw bad("serviceAccountName: expected NAMESPACE/NAME, got \"\(text)\"") }
            account = parsed
        }
        let definition = SyncDefinition(name: info.name, source: .file(path: file), keyvaultName: info.keyvaultName, tenantId: info.tenantId,
                                        clientId: info.clientID, serviceAccount: account, objects: objects, target: target,
                                        forceSynchronization: info.forceSynchronization)
        let problems = SyncDefinitionValidator.problems(in: definition)
        guard problems.isEmpty else { throw bad(problems.map(\.description).joined(separator: "; ")) }
        return definition
    }

    static func issue(_ issue: SyncIssue?) -> SyncIssueInfo? {
        issue.map { SyncIssueInfo(code: $0.code, message: $0.message, hint: $0.hint) }
    }

    static func status(_ status: SyncDefinitionStatus?, definition: SyncDefinition, now: Date = Date()) -> SecretStatusInfo {
        guard let status else {
            return SecretStatusInfo(state: .pending, stale: true,
                                    objects: definition.objects.map { .init(objectName: $0.objectName, alias: $0.alias) })
        }
        let state: SyncState
        if status.targetDeleted {
            state = .deleted
        } else if Self.isFailing(status) {
            state = .failed
        } else if status.objects.contains(where: { Self.isGone($0.issue) }) {
            state = .retained
        } else if status.lastSuccess == nil {
            state = .pending
        } else {
            state = .synced
        }
        let stale = status.isStale || status.lastSuccess == nil
        let expires = status.objects.compactMap(\.expires).min().map(Self.date)
        return SecretStatusInfo(
            state: state, lastAttempt: status.lastAttempt, lastSuccess: status.lastSuccess, stale: stale,
            staleSeconds: stale ? status.lastSuccess.map { now.timeIntervalSince($0) } : nil,
            contentHash: status.targetHash, issue: issue(status.issue), expires: expires, expired: expires.map { $0 <= now } ?? false,
            objects: status.objects.map {
                .init(objectName: $0.objectName, alias: $0.alias, lastAttempt: $0.lastAttempt, lastSuccess: $0.lastSuccess,
                      vaultVersion: $0.vaultVersion, vaultUpdated: $0.vaultUpdated.map(Self.date),
                      contentHash: $0.contentHash, issue: issue($0.issue), expires: $0.expires.map(Self.date), notBefore: $0.notBefore.map(Self.date))
            })
    }

    /// A definition's status as the cluster shows it, on a node that does not sync: `synced` with the content
    /// hash the leader wrote when its Secret is there (owned by this definition), else `pending`.
    static func clusterStatus(of definition: SyncDefinition, live: [String: KubernetesClient.SecretSummary]) -> SecretStatusInfo {
        let objects = definition.objects.map { SecretStatusInfo.ObjectStatus(objectName: $0.objectName, alias: $0.alias) }
        guard let secret = live["\(definition.target.namespace)/\(definition.target.name)"], SecretSyncEngine.isOwned(secret, by: definition) else {
            return SecretStatusInfo(state: .pending, stale: true, objects: objects)
        }
        return SecretStatusInfo(state: .synced, stale: false, contentHash: secret.annotations[SecretSyncEngine.hashAnnotation], objects: objects)
    }

    private static func date(_ unixSeconds: Int) -> Date { Date(timeIntervalSince1970: Double(unixSeconds)) }

    static func isGone(_ issue: SyncIssue?) -> Bool { issue?.code == "SecretNotFound" || issue?.code == "SecretDisabled" }

    /// The last attempt failed for a reason other than objects gone from the vault (the last good Secret is kept).
    static func isFailing(_ status: SyncDefinitionStatus) -> Bool {
        status.issue != nil || status.objects.contains { $0.issue != nil && !isGone($0.issue) }
    }

    /// SecretSyncs the selection leaves out (`NAMESPACE/NAME`), each with why and the command that selects it.
    static func unselected(_ keys: [String], selection: ClusterSyncConfiguration) -> [UnselectedSecretSync] {
        keys.map { key in
            let label = selection.selectCommand(key)
            if selection.secretSyncs == .off {
                return UnselectedSecretSync(name: key, reason: "cluster.secretSyncs is off: aiosd syncs no SecretSync",
                                            fix: "set cluster.secretSyncs: labelled in aiosd.yaml, sudo systemctl reload aiosd, then: \(label)")
            }
            return UnselectedSecretSync(name: key, reason: "not labelled \(selection.selectorLabel) (cluster.secretSyncs: labelled)", fix: label)
        }
    }

    static func result(_ outcome: SyncOutcome) -> SyncResult {
        SyncResult(name: outcome.name, result: SyncResultKind(rawValue: outcome.result.rawValue) ?? .failed, seconds: (outcome.seconds * 1000).rounded() / 1000,
                   fetched: outcome.fetched, issue: issue(outcome.issue))
    }

    static func response(_ report: SyncCycleReport) -> SyncResponse {
        SyncResponse(finished: true, startedAt: report.startedAt, finishedAt: report.finishedAt, results: report.outcomes.map(result),
                     invalid: report.invalidDefinitions.map { InvalidDefinition(name: "", error: $0) },
                     vaultRequests: report.vaultRequests, kubernetesRequests: report.kubernetesRequests, standDown: report.standDown)
    }
}
