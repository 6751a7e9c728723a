import AIOSHTTP
import FoundationEssentials

/// The Azure side of `aiosctl doctor`: a Key Vault token from Entra ID (through the same credentials sync uses),
/// a list of each vault the definitions use, and the clock against Entra ID's `Date` header. Blocking.
public enum DoctorAzureProbe {
    public static func probe(definitions: [SyncDefinition], configuration: AgentConfiguration, connections: SyncConnections,
                             into facts: inout DoctorFacts) {
        clock(configuration.identity, into: &facts)
        guard configuration.identity.tenantId != nil || definitions.contains(where: { $0.tenantId != nil }) else { return }
        let kubernetes: KubernetesClient
        do {
            kubernetes = try connections.kubernetes(configuration: configuration.sync)
        } catch {
            // Sync needs the API server whatever the identity; the K3s checks say why it is missing.
            facts.token = .failed(error)
            return
        }
        do {
            let identity = try SyncIdentity.resolve(agentProbe(configuration), configuration: configuration.identity, policy: configuration.secrets)
            let token = try connections.vaultToken(for: identity, kubernetes: kubernetes)
            facts.token = .issued(objectId: JWTClaims.decodeUnverified(token.value)?.objectId)
        } catch {
            facts.token = .failed(error)
        }
        azureIssuer(configuration: configuration, connections: connections, kubernetes: kubernetes, into: &facts)
        var seen: Set<String> = []
        for definition in definitions where seen.insert(definition.keyvaultName.lowercased()).inserted {
            do {
                let identity = try SyncIdentity.resolve(definition, configuration: configuration.identity, policy: configuration.secrets)
                let vault = try connections.vault(definition.keyvaultName, identity: identity, kubernetes: kubernetes,
                                                  configuration: configuration.sync)
                _ = try vault.list()
                facts.vaults.append(.init(vault: definition.keyvaultName, issue: nil))
            } catch let issue as VaultIssue {
                facts.vaults.append(.init(vault: definition.keyvaultName, issue: issue.issue))
            } catch let issue as SyncIssue {
                facts.vaults.append(.init(vault: definition.keyvaultName, issue: issue))
            } catch {
                facts.vaults.append(.init(vault: definition.keyvaultName, issue: SyncIssue(code: "InternalError", message: "\(error)")))
            }
        }
    }

    /// The agent's own identity, as a definition without overrides resolves it.
    static func agentProbe(_ configuration: AgentConfiguration) -> SyncDefinition {
        SyncDefinition(name: "doctor", source: .file(path: configuration.sync.definitions), keyvaultName: "doctor",
                       objects: [], target: TargetSecret(namespace: configuration.sync.defaultNamespace, name: "doctor"))
    }

    /// With a managed identity (the host's own), the Arc cluster's issuer as Azure reports it, so doctor can offer it
    /// instead of asking the operator to copy it. The identity needs read access to the cluster resource (Reader).
    static func azureIssuer(configuration: AgentConfiguration, connections: SyncConnections, kubernetes: KubernetesClient,
                            into facts: inout DoctorFacts) {
        guard configuration.identity.method == .managedIdentity, let cluster = facts.arcCluster else { return }
        do {
            let identity = try SyncIdentity.resolve(agentProbe(configuration), configuration: configuration.identity, policy: configuration.secrets)
            let token = try connections.token(for: identity, resource: ArcCluster.armResource, kubernetes: kubernetes)
            let response = try HTTPClient().send(HTTPRequest(method: .get, url: cluster.resourceURL,
                                                             headers: [("Accept", "application/json"), ("Authorization", "Bearer \(token.value)")],
                                                             timeout: .seconds(15), usesOutboundProxy: true, maximumResponseBytes: 1 << 20))
            switch response.status {
            case 200:
                facts.azureIssuer = ArcCluster.issuerURL(Data(response.body))
                if facts.azureIssuer == nil { facts.azureIssuerError = "the Arc cluster \(cluster.name) has no OIDC issuer (oidcIssuerProfile)" }
            case 401, 403:
                let objectId = JWTClaims.decodeUnverified(token.value)?.objectId ?? "OBJECT_ID"
                facts.azureIssuerError = "the managed identity may not read the Arc cluster \(cluster.name) (HTTP \(response.status); it needs Reader on it: "
                    + "az role assignment create --role Reader --assignee-object-id \(objectId) --assignee-principal-type ServicePrincipal --scope \(cluster.resourceId))"
            default:
                facts.azureIssuerError = "Azure Resource Manager answered HTTP \(response.status) for the Arc cluster \(cluster.name)"
            }
        } catch let error as SyncIssue {
            facts.azureIssuerError = "\(error.code): \(error.message)"
        } catch let error as HTTPClientError {
            facts.azureIssuerError = error.message
        } catch {
            facts.azureIssuerError = "\(error)"
        }
    }

    /// Entra ID's discovery document for the tenant (or `common`): its `Date` header against this host's clock.
    static func clock(_ identity: IdentityConfiguration, into facts: inout DoctorFacts) {
        let url = "\(identity.authorityHost)/\(identity.tenantId ?? "common")/v2.0/.well-known/openid-configuration"
        let before = Date()
        do {
            let response = try HTTPClient().send(HTTPRequest(method: .get, url: url, headers: [("Accept", "application/json")],
                                                             timeout: .seconds(10)))
            let after = Date()
            guard let header = response.headers.first(where: { $0.name.lowercased() == "date" })?.value, let served = InternetTime.parseHTTPDate(header) else {
                facts.clockError = "\(url) answered without a Date header"
                return
            }
            // Date has one-second resolution: compare with the middle of the exchange.
            let local = before.addingTimeInterval(after.timeIntervalSince(before) / 2)
            let skew = local.timeIntervalSince(served)
            facts.clockSkewSeconds = abs(skew) < 1.5 ? 0 : skew
        } catch {
            facts.clockError = "cannot reach \(identity.authorityHost): \(error.message)"
        }
    }

}
