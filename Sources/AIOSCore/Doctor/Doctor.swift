import FoundationEssentials

/// Judges what `aiosctl doctor` found: one finding per check, in the order an operator fixes things (config, K3s,
/// workload identity, Entra, vaults, host), each problem with the command that fixes it, real values filled in.
public enum Doctor {
    /// Key Vault rejects tokens and Entra assertions more than about 5 minutes off; warn well before that.
    static let skewWarnSeconds = 60.0
    static let skewFailSeconds = 300.0
    static let diskWarnBytes: UInt64 = 200 << 20
    static let diskFailBytes: UInt64 = 20 << 20
    static let minimumTokenExpirationSeconds = 24 * 3600

    public static func findings(_ facts: DoctorFacts) -> [DoctorFinding] {
        var out: [DoctorFinding] = []
        out.append(configuration(facts))
        out += k3s(facts)
        // AIO's own workloads need the issuer on an Arc-connected cluster whichever identity aiosd uses.
        if facts.identity.method == .workloadIdentity || facts.arcCluster != nil { out += workloadIdentity(facts) }
        out += azure(facts)
        out.append(clock(facts))
        out.append(disk(facts))
        if let sandbox = sandbox(facts) { out.append(sandbox) }
        if let extensionFinding = secretStoreExtension(facts) { out.append(extensionFinding) }
        out.append(secretSyncs(facts))
        return out
    }

    static func configuration(_ facts: DoctorFacts) -> DoctorFinding {
        if let error = facts.configError {
            return DoctorFinding("config", .fail, error, fix: "sudoedit \(facts.configPath) && sudo systemctl reload aiosd")
        }
        if !facts.invalidDefinitions.isEmpty {
            return DoctorFinding("config", .fail, "\(facts.configPath) is valid; definitions refused: "
                                    + facts.invalidDefinitions.joined(separator: "; "),
                                 fix: "correct the file named above, or remove it: sudo aiosctl secret remove NAME")
        }
        return DoctorFinding("config", .ok, "\(facts.configPath) and the secret definitions are valid")
    }

    static func k3s(_ facts: DoctorFacts) -> [DoctorFinding] {
        if let error = facts.kubeconfigError {
            return [DoctorFinding("k3s.present", .fail, "no usable K3s admin kubeconfig: \(error)",
                                  fix: "install K3s (curl -sfL https://get.k3s.io | sh -), or set sync.kubeconfig in \(facts.configPath)")]
        }
        var out = [DoctorFinding("k3s.present", .ok, "K3s' kubeconfig \(facts.kubeconfigPath)")]
        if facts.apiServerReady == true {
            out.append(DoctorFinding("k3s.ready", .ok, "the API server answers /readyz"))
        } else {
            out.append(DoctorFinding("k3s.ready", .fail, "the API server does not answer /readyz with ok",
                                     fix: "sudo systemctl status k3s; sudo journalctl -u k3s -n 50"))
        }
        return out
    }

    static func workloadIdentity(_ facts: DoctorFacts) -> [DoctorFinding] {
        var out: [DoctorFinding] = []
        let custom = facts.configuredIssuer.flatMap { $0 == WorkloadIdentityPlanner.defaultIssuer ? nil : $0 }
        let enableIssuer = custom ?? "ISSUER_URL"
        // The issuer: configured (K3s' files), served (the API server's discovery document).
        let (group, cluster) = arcNames(facts)
        if custom == nil {
            if let azure = facts.azureIssuer {
                // Read from Azure with the host's managed identity: nothing to copy by hand.
                out.append(DoctorFinding("issuer.configured", .fail, "K3s runs with its default issuer (\(WorkloadIdentityPlanner.defaultIssuer)); Entra cannot "
                                            + "trust its tokens. Azure reports the Arc cluster's issuer: \(azure)",
                                         fix: "sudo aiosctl workload-identity enable --issuer \(azure)"))
            } else {
                out.append(DoctorFinding("issuer.configured", .fail, "K3s runs with its default issuer (\(WorkloadIdentityPlanner.defaultIssuer)); Entra cannot trust its tokens"
                                            + (facts.azureIssuerError.map { "; the issuer could not be read from Azure: \($0)" } ?? ""),
                                         fix: "az connectedk8s update -g \(group) -n \(cluster) --enable-oidc-issuer --enable-workload-identity; "
                                            + "sudo aiosctl workload-identity enable --issuer $(az connectedk8s show -g \(group) -n \(cluster) --query oidcIssuerProfile.issuerUrl -o tsv)"))
            }
        } else if let azure = facts.azureIssuer, azure != custom {
            out.append(DoctorFinding("issuer.configured", .fail, "K3s is configured with issuer \(enableIssuer), but Azure reports the Arc cluster's issuer as \(azure)",
                                     fix: "sudo aiosctl workload-identity enable --issuer \(azure)"))
        } else if facts.azureIssuer == nil, let error = facts.azureIssuerError {
            out.append(DoctorFinding("issuer.configured", .warn, "K3s is configured with issuer \(enableIssuer); it could not be compared with the Arc cluster's in Azure: \(error)",
                                     fix: "az connectedk8s show -g \(group) -n \(cluster) --query oidcIssuerProfile.issuerUrl -o tsv"))
        } else {
            out.append(DoctorFinding("issuer.configured", .ok, "K3s is configured with issuer \(enableIssuer)\(facts.azureIssuer != nil ? ", the Arc cluster's in Azure" : "")"))
        }
        if let served = facts.servedIssuer {
            if let configured = facts.configuredIssuer, served != configured {
                out.append(DoctorFinding("issuer.served", .fail, "the API server serves issuer \(served), K3s is configured with \(configured): K3s has not been restarted since",
                                         fix: "sudo aiosctl k3s restart"))
            } else {
                out.append(DoctorFinding("issuer.served", .ok, "the API server serves issuer \(served)"))
            }
        } else if let error = facts.servedIssuerError {
            out.append(DoctorFinding("issuer.served", .fail, error, fix: "sudo aiosctl workload-identity status"))
        }
        if let running = runningIssuer(facts, configured: custom) { out.append(running) }
        if let discovery = discovery(facts, issuer: custom) { out.append(discovery) }
        if let text = facts.maxTokenExpiration, let seconds = DurationParser.parse(text)?.components.seconds,
           seconds >= Int64(minimumTokenExpirationSeconds) {
            out.append(DoctorFinding("issuer.max-token-expiration", .ok, "service-account-max-token-expiration=\(text)"))
        } else {
            out.append(DoctorFinding("issuer.max-token-expiration", .warn,
                                     "service-account-max-token-expiration is \(facts.maxTokenExpiration ?? "not set"); AIO's workload identity expects 24h",
                                     fix: "sudo aiosctl workload-identity enable --issuer \(enableIssuer) --max-token-expiration 24h"))
        }
        let account = facts.identity.serviceAccount
        switch (facts.serviceAccountExists, facts.serviceAccountError) {
        case (true?, _):
            out.append(DoctorFinding("service-account", .ok, "service account \(account) exists"))
        case (false?, _):
            out.append(DoctorFinding("service-account", .fail, "service account \(account) does not exist",
                                     fix: "kubectl create serviceaccount \(account.name) -n \(account.namespace)"))
        case (nil, let error?):
            out.append(DoctorFinding("service-account", .fail, "cannot look up service account \(account): \(error)",
                                     fix: "sudo systemctl status k3s"))
        case (nil, nil):
            break
        }
        return out
    }

    /// What K3s started its API server with, against the configuration (a change not applied until K3s restarts).
    static func runningIssuer(_ facts: DoctorFacts, configured: String?) -> DoctorFinding? {
        guard facts.kubeconfigError == nil else { return nil }
        guard let running = facts.runningIssuers else {
            return DoctorFinding("issuer.running", .warn, "K3s' journal has no 'Running kube-apiserver' line since boot: the issuer K3s started with is unknown",
                                 fix: "sudo journalctl -u k3s -b | grep 'Running kube-apiserver'")
        }
        let first = running.first ?? WorkloadIdentityPlanner.defaultIssuer
        if let configured, first != configured {
            return DoctorFinding("issuer.running", .fail, "K3s started its API server with issuer \(first); K3s is configured with \(configured): "
                                    + "the change is not applied until K3s restarts", fix: "sudo aiosctl k3s restart")
        }
        return DoctorFinding("issuer.running", .ok, "K3s started its API server with issuer \(first)")
    }

    /// The issuer's discovery document, from the issuer URL itself over HTTPS: what Entra ID fetches to trust tokens.
    static func discovery(_ facts: DoctorFacts, issuer: String?) -> DoctorFinding? {
        guard let issuer, let outcome = facts.discovery else { return nil }
        let url = discoveryURL(issuer)
        let (group, cluster) = arcNames(facts)
        let enable = "az connectedk8s update -g \(group) -n \(cluster) --enable-oidc-issuer --enable-workload-identity"
        switch outcome {
        case .served(let served, let jwks):
            guard served == issuer else {
                return DoctorFinding("issuer.discovery", .fail, "\(url) names issuer \(served ?? "none"), not \(issuer): Entra ID will refuse the tokens",
                                     fix: "sudo aiosctl workload-identity enable --issuer $(az connectedk8s show -g \(group) -n \(cluster) --query oidcIssuerProfile.issuerUrl -o tsv)")
            }
            guard jwks != nil else {
                return DoctorFinding("issuer.discovery", .fail, "\(url) has no jwks_uri: Entra ID cannot get the keys that sign the tokens", fix: enable)
            }
            return DoctorFinding("issuer.discovery", .ok, "\(url) serves the issuer's discovery document (jwks_uri \(jwks!))")
        case .status(let status):
            return DoctorFinding("issuer.discovery", .fail, "\(url) answered HTTP \(status): the issuer does not publish its discovery document, "
                                    + "so Entra ID cannot verify the tokens (is Arc's OIDC issuer enabled?)", fix: enable)
        case .unreachable(let reason):
            return DoctorFinding("issuer.discovery", .warn, "\(url) is not reachable from this host (\(reason)); Entra ID fetches it from the "
                                    + "internet, so this fails only if Entra cannot reach it either",
                                 fix: "curl -sS \(url)")
        }
    }

    /// The Arc resource group and cluster for `az` commands: this cluster's, from Arc's ConfigMap, else placeholders.
    static func arcNames(_ facts: DoctorFacts) -> (group: String, cluster: String) {
        (facts.arcCluster?.resourceGroup ?? "RESOURCE_GROUP", facts.arcCluster?.name ?? "CLUSTER")
    }

    /// OIDC discovery: the issuer with any trailing slash removed, then `/.well-known/openid-configuration`.
    public static func discoveryURL(_ issuer: String) -> String {
        var base = issuer
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/.well-known/openid-configuration"
    }

    static func azure(_ facts: DoctorFacts) -> [DoctorFinding] {
        var out: [DoctorFinding] = []
        var objectId: String?
        switch facts.token {
        case .issued(let oid)?:
            objectId = oid
            out.append(DoctorFinding("entra.token", .ok, "Entra ID issued a Key Vault token\(oid.map { " for object id \($0)" } ?? "")"))
        case .failed(let issue)?:
            var fix = issue.hint
            if fix == nil, facts.identity.method == .workloadIdentity, let issuer = facts.servedIssuer ?? facts.configuredIssuer {
                fix = FederatedCredential(issuer: issuer, namespace: facts.identity.serviceAccount.namespace,
                                          serviceAccount: facts.identity.serviceAccount.name).azCommand
            }
            out.append(DoctorFinding("entra.token", .fail, "\(issue.code): \(issue.message)", fix: fix))
        case nil:
            if facts.identity.tenantId == nil {
                out.append(DoctorFinding("entra.token", .fail, "identity.tenantId is not set in \(facts.configPath)",
                                         fix: "add identity: tenantId: TENANT_GUID (and clientId) to \(facts.configPath), then sudo systemctl reload aiosd"))
            }
        }
        for vault in facts.vaults {
            guard let issue = vault.issue else {
                out.append(DoctorFinding("vault.access", .ok, "vault \(vault.vault) is listable"))
                continue
            }
            let forbidden = issue.code == "Forbidden" || issue.code == "ForbiddenByRbac" || issue.code == "AccessDenied"
            let fix = forbidden
                ? "az role assignment create --role \"Key Vault Secrets User\" --assignee-object-id \(objectId ?? "OBJECT_ID") "
                    + "--assignee-principal-type ServicePrincipal --scope $(az keyvault show --name \(vault.vault) --query id -o tsv)"
                : issue.hint
            out.append(DoctorFinding("vault.access", .fail, "vault \(vault.vault): \(issue.code): \(issue.message)", fix: fix))
        }
        return out
    }

    static func clock(_ facts: DoctorFacts) -> DoctorFinding {
        guard let skew = facts.clockSkewSeconds else {
            return DoctorFinding("clock", .warn, "cannot compare the clock with Entra ID: \(facts.clockError ?? "not asked")",
                                 fix: "timedatectl timesync-status")
        }
        let text = "this host's clock is \(Int(abs(skew).rounded()))s \(skew >= 0 ? "ahead of" : "behind") Entra ID's"
        if abs(skew) >= skewFailSeconds { return DoctorFinding("clock", .fail, text, fix: "sudo timedatectl set-ntp true; timedatectl timesync-status") }
        if abs(skew) >= skewWarnSeconds { return DoctorFinding("clock", .warn, text, fix: "sudo timedatectl set-ntp true; timedatectl timesync-status") }
        return DoctorFinding("clock", .ok, text)
    }

    static func disk(_ facts: DoctorFacts) -> DoctorFinding {
        guard let free = facts.freeBytes else {
            return DoctorFinding("disk", .fail, "cannot read the free space of \(facts.stateDirectory)", fix: "df -h \(facts.stateDirectory)")
        }
        let text = "\(free >> 20) MiB free for \(facts.stateDirectory)"
        if free < diskFailBytes { return DoctorFinding("disk", .fail, text, fix: "df -h \(facts.stateDirectory); sudo journalctl --vacuum-size=200M") }
        if free < diskWarnBytes { return DoctorFinding("disk", .warn, text, fix: "df -h \(facts.stateDirectory); sudo journalctl --vacuum-size=200M") }
        return DoctorFinding("disk", .ok, text)
    }

    /// aiosd's sandbox (ProtectSystem=strict with ReadWritePaths) lets it write where it must.
    static func sandbox(_ facts: DoctorFacts) -> DoctorFinding? {
        guard !facts.writable.isEmpty else { return nil }
        let refused = facts.writable.filter { $0.error != nil }
        guard refused.isEmpty else {
            return DoctorFinding("sandbox.write", .fail, "aiosd cannot write " + refused.map { "\($0.path) (\($0.error!))" }.joined(separator: ", "),
                                 fix: "systemctl cat aiosd.service; a drop-in with ReadWritePaths=\(refused.map(\.path).joined(separator: " ")) "
                                    + "(sudo systemctl edit aiosd.service), then sudo systemctl restart aiosd")
        }
        return DoctorFinding("sandbox.write", .ok, "aiosd can write " + facts.writable.map(\.path).joined(separator: ", "))
    }

    /// The Secret Store extension (AIO's Secret Synchronization Controller): present or not, and what that means here.
    static func secretStoreExtension(_ facts: DoctorFacts) -> DoctorFinding? {
        guard facts.secretStoreChecked else { return nil }
        if let controller = facts.secretStoreExtension {
            return DoctorFinding("secret-store-extension", .ok, "the Secret Store extension runs in the cluster (\(controller)): it syncs the "
                                    + "cluster's SecretSyncs and aiosd stands down for them; aiosd syncs only the files in \(facts.definitionsDirectory)")
        }
        return DoctorFinding("secret-store-extension", .ok, "the Secret Store extension is not installed: aiosd syncs the SecretSyncs that "
                                + "cluster.secretSyncs (\(facts.secretSyncSelection.secretSyncs.rawValue)) selects, and its own files")
    }

    static func secretSyncs(_ facts: DoctorFacts) -> DoctorFinding {
        guard !facts.unselectedSecretSyncs.isEmpty else {
            return DoctorFinding("secretsyncs.selected", .ok, "no SecretSync is left out by cluster.secretSyncs: \(facts.secretSyncSelection.secretSyncs.rawValue)")
        }
        let selection = facts.secretSyncSelection
        let fix = facts.unselectedSecretSyncs.map(selection.selectCommand).joined(separator: "; ")
        return DoctorFinding("secretsyncs.selected", .warn,
                             "\(facts.unselectedSecretSyncs.count) SecretSync(s) not synced (cluster.secretSyncs: \(selection.secretSyncs.rawValue), "
                                + "label \(selection.selectorLabel)): \(facts.unselectedSecretSyncs.joined(separator: ", "))",
                             fix: selection.secretSyncs == .off ? "set cluster.secretSyncs: labelled in \(facts.configPath), then: \(fix)" : fix)
    }
}

extension ClusterSyncConfiguration {
    /// The command that selects the SecretSync `NAMESPACE/NAME` (labels it with `selectorLabel`).
    public func selectCommand(_ key: String) -> String {
        let parts = key.split(separator: "/", maxSplits: 1)
        return "kubectl label secretsync -n \(parts.first ?? "") \(parts.dropFirst().first ?? "") \(selectorLabel)"
    }
}
