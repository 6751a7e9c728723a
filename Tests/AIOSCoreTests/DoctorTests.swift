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
        return facts
    }

    static func finding(_ facts: DoctorFacts, _ check: String) -> DoctorFinding? {
        Doctor.findings(facts).first { $0.check == check }
    }

    @Test func aHealthyHostIsAllOk() {
        let findings = Doctor.findings(Self.healthy())
        #expect(findings.allSatisfy { $0.status == .ok }, "\(findings.filter { $0.status != .ok })")
        #expect(findings.map(\.check) == ["config", "k3s.present", "k3s.ready", "issuer.configured", "issuer.served",
                                          "issuer.max-token-expiration", "service-account", "entra.token", "vault.access", "clock", "disk",
                                          "secretsyncs.selected"])
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
}
