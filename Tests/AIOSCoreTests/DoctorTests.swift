@testable import AIOSCore
import Foundation
import Testing

/// `Doctor.findings` over facts a fake host would give: each check's outcome and fix.
@Suite struct DoctorTests {
    static let issuer = "https://oidc.prod-aks.azure.com/1111/2222/"

    /// A healthy workload-identity host: everything ok.
    static func healthy() -> DoctorFacts {
        var identity = IdentityConfiguration()
        identity.tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47"
        identity.clientId = "3ad6c3e1-1f12-4a6d-9a37-7c62c6a1b0a1"
        var facts = DoctorFacts(configPath: "/etc/aios/aiosd.yaml", kubeconfigPath: "/etc/rancher/k3s/k3s.yaml", identity: identity,
                                stateDirectory: "/var/lib/aiosd", secretSyncSelection: ClusterSyncConfiguration())
        facts.apiServerReady = true
        facts.configuredIssuer = issuer
        facts.servedIssuer = issuer
        facts.maxTokenExpiration = "24h"
        facts.serviceAccountExists = true
        facts.token = .issued(objectId: "0e5d9a3c-8f44-4c1b-a8e8-0ac1d0f2c001")
        facts.vaults = [.init(vault: "kv1", issue: nil)]
        facts.clockSkewSeconds = 0
        facts.freeBytes = 10 << 30
        facts.runningIssuers = [issuer, "https://kubernetes.default.svc.cluster.local"]
        facts.discovery = .served(issuer: issuer, jwksURI: "https://oidc.prod-aks.azure.com/1111/2222/openid/v1/jwks")
        facts.secretStoreChecked = true
        facts.writable = [.init(path: "/var/lib/aiosd", error: nil), .init(path: "/etc/aios/secrets.d", error: nil)]
        return facts
    }

    static func finding(_ facts: DoctorFacts, _ check: String) -> DoctorFinding? {
        Doctor.findings(facts).first { $0.check == check }
    }

    @Test func aHealthyHostIsAllOk() {
        let findings = Doctor.findings(Self.healthy())
        #expect(findings.allSatisfy { $0.status == .ok }, "\(findings.filter { $0.status != .ok })")
        #expect(findings.map(\.check) == ["config", "k3s.present", "k3s.ready", "issuer.configured", "issuer.served", "issuer.running",
                                          "issuer.discovery", "issuer.max-token-expiration", "service-account", "entra.token", "vault.access",
                                          "clock", "disk", "sandbox.write", "secret-store-extension", "secretsyncs.selected"])
    }

    @Test func aForbiddenVaultGetsTheRoleAssignmentWithTheObjectId() throws {
        var facts = Self.healthy()
        facts.vaults = [.init(vault: "kv1", issue: SyncIssue(code: "ForbiddenByRbac", message: "Caller is not authorized"))]
        let finding = try #require(Self.finding(facts, "vault.access"))
        #expect(finding.status == .fail)
        #expect(finding.fix == "az role assignment create --role \"Key Vault Secrets User\" --assignee-object-id 0e5d9a3c-8f44-4c1b-a8e8-0ac1d0f2c001 "
            + "--assignee-principal-type ServicePrincipal --scope $(az keyvault show --name kv1 --query id -o tsv)")
    }

    @Test func aRefusedExchangeGetsTheFederatedCredentialCommand() throws {
        var facts = Self.healthy()
        facts.token = .failed(SyncIssue(code: "AADSTS700213", message: "No matching federated identity record found"))
        facts.identity.serviceAccount = ServiceAccountReference(namespace: "ops", name: "sync")
        let finding = try #require(Self.finding(facts, "entra.token"))
        #expect(finding.status == .fail)
        #expect(finding.fix?.contains("az identity federated-credential create") == true)
        #expect(finding.fix?.contains("--issuer \(Self.issuer) --subject system:serviceaccount:ops:sync") == true)
        // Entra's own hint wins when the mapper gave one.
        facts.token = .failed(SyncIssue(code: "AADSTS70021", message: "No matching", hint: "the exact hint"))
        #expect(Self.finding(facts, "entra.token")?.fix == "the exact hint")
    }

    @Test func theIssuerChecks() {
        var facts = Self.healthy()
        facts.configuredIssuer = nil
        facts.servedIssuer = WorkloadIdentityPlanner.defaultIssuer
        let configured = Self.finding(facts, "issuer.configured")
        #expect(configured?.status == .fail && configured?.fix?.contains("--enable-oidc-issuer --enable-workload-identity") == true)
        facts = Self.healthy()
        facts.servedIssuer = "https://kubernetes.default.svc.cluster.local"
        #expect(Self.finding(facts, "issuer.served") == DoctorFinding("issuer.served", .fail,
            "the API server serves issuer https://kubernetes.default.svc.cluster.local, K3s is configured with \(Self.issuer): K3s has not been restarted since",
            fix: "sudo aiosctl k3s restart"))
        facts = Self.healthy()
        facts.maxTokenExpiration = "1h"
        #expect(Self.finding(facts, "issuer.max-token-expiration")?.fix == "sudo aiosctl workload-identity enable --issuer \(Self.issuer) --max-token-expiration 24h")
        facts.maxTokenExpiration = "86400s"
        #expect(Self.finding(facts, "issuer.max-token-expiration")?.status == .ok)
    }

    @Test func missingPiecesOfTheHost() {
        var facts = Self.healthy()
        facts.serviceAccountExists = false
        #expect(Self.finding(facts, "service-account")?.fix == "kubectl create serviceaccount aio-ssc-sa -n azure-iot-operations")
        facts.apiServerReady = false
        #expect(Self.finding(facts, "k3s.ready")?.status == .fail)
        facts.kubeconfigError = "no such file"
        #expect(Doctor.findings(facts).filter { $0.check.hasPrefix("k3s") }.map(\.status) == [.fail])
        facts.configError = "/etc/aios/aiosd.yaml:3:7: sync.interval: expected a duration"
        #expect(Self.finding(facts, "config")?.fix == "sudoedit /etc/aios/aiosd.yaml && sudo systemctl reload aiosd")
    }

    @Test func clockDiskAndSelection() {
        var facts = Self.healthy()
        facts.clockSkewSeconds = -90
        #expect(Self.finding(facts, "clock")?.status == .warn && Self.finding(facts, "clock")?.detail.contains("90s behind") == true)
        facts.clockSkewSeconds = 400
        #expect(Self.finding(facts, "clock")?.status == .fail)
        facts.freeBytes = 5 << 20
        #expect(Self.finding(facts, "disk")?.status == .fail)
        facts.freeBytes = 100 << 20
        #expect(Self.finding(facts, "disk")?.status == .warn)
        facts.unselectedSecretSyncs = ["azure-iot-operations/opc"]
        let selection = Self.finding(facts, "secretsyncs.selected")
        #expect(selection?.status == .warn)
        #expect(selection?.fix == "kubectl label secretsync -n azure-iot-operations opc aios.microsoft.com/agent=aiosd")
    }

    /// What K3s started its API server with (its journal), against the configuration.
    @Test func theRunningIssuer() {
        var facts = Self.healthy()
        facts.runningIssuers = ["https://kubernetes.default.svc.cluster.local"]
        #expect(Self.finding(facts, "issuer.running") == DoctorFinding(
            "issuer.running", .fail, "K3s started its API server with issuer https://kubernetes.default.svc.cluster.local; K3s is configured with "
                + "\(Self.issuer): the change is not applied until K3s restarts", fix: "sudo aiosctl k3s restart"))
        facts.runningIssuers = nil
        #expect(Self.finding(facts, "issuer.running")?.status == .warn)
        facts.kubeconfigError = "no kubeconfig"
        #expect(Self.finding(facts, "issuer.running") == nil, "no K3s: nothing started")
    }

    /// The issuer's discovery document, as Entra ID fetches it from the issuer URL.
    @Test func theDiscoveryDocument() {
        #expect(Doctor.discoveryURL("https://i.example/t/g/") == "https://i.example/t/g/.well-known/openid-configuration")
        #expect(Doctor.discoveryURL("https://i.example") == "https://i.example/.well-known/openid-configuration")
        var facts = Self.healthy()
        facts.discovery = .served(issuer: "https://other.example/", jwksURI: "https://other.example/keys")
        let wrong = Self.finding(facts, "issuer.discovery")
        #expect(wrong?.status == .fail && wrong?.detail.contains("names issuer https://other.example/, not \(Self.issuer)") == true)
        facts.discovery = .served(issuer: Self.issuer, jwksURI: nil)
        #expect(Self.finding(facts, "issuer.discovery")?.detail.contains("has no jwks_uri") == true)
        facts.discovery = .status(404)
        let missing = Self.finding(facts, "issuer.discovery")
        #expect(missing?.status == .fail && missing?.fix?.contains("--enable-oidc-issuer") == true)
        facts.discovery = .unreachable("Could not resolve host")
        let unreachable = Self.finding(facts, "issuer.discovery")
        #expect(unreachable?.status == .warn && unreachable?.detail.contains("Could not resolve host") == true)
        facts.configuredIssuer = nil
        #expect(Self.finding(facts, "issuer.discovery") == nil, "K3s' default issuer has no public document; issuer.configured says so")
    }

    @Test func theSandboxAndTheSecretStoreExtension() {
        var facts = Self.healthy()
        facts.writable = [.init(path: "/var/lib/aiosd", error: nil), .init(path: "/etc/rancher/k3s/config.yaml.d", error: "Read-only file system")]
        let sandbox = Self.finding(facts, "sandbox.write")
        #expect(sandbox?.status == .fail)
        #expect(sandbox?.detail == "aiosd cannot write /etc/rancher/k3s/config.yaml.d (Read-only file system)")
        #expect(sandbox?.fix?.contains("ReadWritePaths=/etc/rancher/k3s/config.yaml.d") == true)
        facts.secretStoreExtension = "Deployment azure-secret-store/secret-sync-controller-manager"
        let present = Self.finding(facts, "secret-store-extension")
        #expect(present?.status == .ok && present?.detail.contains("aiosd stands down for them") == true)
        facts.secretStoreExtension = nil
        #expect(Self.finding(facts, "secret-store-extension")?.detail.contains("is not installed: aiosd syncs the SecretSyncs") == true)
        facts.secretStoreChecked = false
        #expect(Self.finding(facts, "secret-store-extension") == nil, "not asked (no API server): nothing to say")
    }
}

/// The sandbox probe from this process: a writable directory, a missing one (its parent is tried), a read-only one.
@Suite struct DoctorHostProbeTests {
    @Test func writableDirectories() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("doctor-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outcomes = DoctorHostProbe.writable([directory, directory + "/not-yet", "/nonexistent-aios/x"])
        #expect(outcomes == [.init(path: directory, error: nil), .init(path: directory, error: nil)])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty, "the probe file is removed")
        if getuid() != 0 {
            #expect(DoctorHostProbe.writable(["/etc"]).first?.error != nil)
        } else {
            #expect(DoctorHostProbe.writable(["/proc/self"]).first?.error != nil, "even root cannot create files in /proc")
        }
    }
}

/// The Arc resource from Arc's ConfigMap, its issuer from Azure, and what doctor makes of them.
@Suite struct ArcClusterTests {
    static let configMap = Data(#"{"kind":"ConfigMap","metadata":{"name":"azure-clusterconfig","namespace":"azure-arc"},"data":{"AZURE_SUBSCRIPTION_ID":"0b1f6471-1bf0-4dda-aec3-111122223333","AZURE_RESOURCE_GROUP":"rg-edge","AZURE_RESOURCE_NAME":"site-12","AZURE_REGION":"westeurope"}}"#.utf8)

    @Test func theResourceFromArcsConfigMap() throws {
        let cluster = try #require(ArcCluster.fromConfigMap(Self.configMap))
        #expect(cluster == ArcCluster(subscriptionId: "0b1f6471-1bf0-4dda-aec3-111122223333", resourceGroup: "rg-edge", name: "site-12"))
        #expect(cluster.resourceURL == "https://management.azure.com/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/rg-edge"
                + "/providers/Microsoft.Kubernetes/connectedClusters/site-12?api-version=2024-07-15-preview")
        #expect(ArcCluster.fromConfigMap(Data(#"{"data":{"AZURE_RESOURCE_GROUP":"rg","AZURE_RESOURCE_NAME":"c"}}"#.utf8)) == nil, "no subscription")
        #expect(ArcCluster.fromConfigMap(Data(#"{"data":{"AZURE_SUBSCRIPTION_ID":"s","AZURE_RESOURCE_GROUP":"rg; rm -rf /","AZURE_RESOURCE_NAME":"c"}}"#.utf8)) == nil,
                "a name that is not an ARM name never reaches a command or a URL")
    }

    @Test func theIssuerFromTheConnectedClusterResource() {
        let resource = #"{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/c","properties":{"oidcIssuerProfile":{"enabled":true,"issuerUrl":"https://westeurope.oic.prod-arc.azure.com/t/g/"}}}"#
        #expect(ArcCluster.issuerURL(Data(resource.utf8)) == "https://westeurope.oic.prod-arc.azure.com/t/g/")
        #expect(ArcCluster.issuerURL(Data(#"{"properties":{"oidcIssuerProfile":{"enabled":false}}}"#.utf8)) == nil)
        #expect(ArcCluster.issuerURL(Data(#"{"properties":{}}"#.utf8)) == nil)
    }

    @Test func doctorOffersTheIssuerReadFromAzure() throws {
        var facts = DoctorTests.healthy()
        facts.configuredIssuer = nil
        facts.arcCluster = ArcCluster(subscriptionId: "s", resourceGroup: "rg-edge", name: "site-12")
        let placeholders = try #require(DoctorTests.finding(facts, "issuer.configured"))
        #expect(placeholders.fix?.contains("az connectedk8s update -g rg-edge -n site-12 --enable-oidc-issuer") == true, "this cluster's names, not placeholders")
        facts.azureIssuerError = "the managed identity may not read the Arc cluster site-12 (HTTP 403; it needs Reader on it)"
        #expect(DoctorTests.finding(facts, "issuer.configured")?.detail.contains("could not be read from Azure: the managed identity may not read") == true)
        facts.azureIssuer = "https://westeurope.oic.prod-arc.azure.com/t/g/"
        #expect(DoctorTests.finding(facts, "issuer.configured")?.fix == "sudo aiosctl workload-identity enable --issuer https://westeurope.oic.prod-arc.azure.com/t/g/")
        facts.configuredIssuer = DoctorTests.issuer
        let differs = try #require(DoctorTests.finding(facts, "issuer.configured"))
        #expect(differs.status == .fail && differs.detail.contains("Azure reports the Arc cluster's issuer as https://westeurope"))
        facts.azureIssuer = DoctorTests.issuer
        #expect(DoctorTests.finding(facts, "issuer.configured")?.status == .ok)
    }

    /// aiosd on the host's managed identity (the only identity that can read the Arc resource before the issuer is
    /// federated): the issuer checks appear once Arc's ConfigMap says the cluster is Arc-connected, with Azure's issuer.
    @Test func aManagedIdentityHostOnAnArcClusterGetsTheIssuerChecks() throws {
        var facts = DoctorTests.healthy()
        facts.identity.method = .managedIdentity
        facts.serviceAccountExists = nil
        facts.configuredIssuer = nil
        #expect(DoctorTests.finding(facts, "issuer.configured") == nil, "not Arc-connected: aiosd itself needs no issuer")
        facts.arcCluster = ArcCluster(subscriptionId: "s", resourceGroup: "rg-edge", name: "site-12")
        facts.azureIssuer = "https://westeurope.oic.prod-arc.azure.com/t/g/"
        let configured = try #require(DoctorTests.finding(facts, "issuer.configured"))
        #expect(configured.status == .fail && configured.fix == "sudo aiosctl workload-identity enable --issuer https://westeurope.oic.prod-arc.azure.com/t/g/")
        #expect(DoctorTests.finding(facts, "service-account") == nil, "aiosd's service account is not used with a managed identity")
        facts.configuredIssuer = DoctorTests.issuer
        facts.azureIssuer = nil
        facts.azureIssuerError = "the managed identity may not read the Arc cluster site-12 (HTTP 403; it needs Reader on it: az role assignment create ...)"
        let uncompared = try #require(DoctorTests.finding(facts, "issuer.configured"))
        #expect(uncompared.status == .warn && uncompared.detail.contains("could not be compared with the Arc cluster's in Azure: the managed identity may not read"))
        #expect(uncompared.fix == "az connectedk8s show -g rg-edge -n site-12 --query oidcIssuerProfile.issuerUrl -o tsv")
        #expect(ArcCluster(subscriptionId: "s", resourceGroup: "rg-edge", name: "site-12").resourceId
                == "/subscriptions/s/resourceGroups/rg-edge/providers/Microsoft.Kubernetes/connectedClusters/site-12")
    }
}

