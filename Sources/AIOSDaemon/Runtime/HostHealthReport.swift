import AIOSAPI
import AIOSCore
import FoundationEssentials

/// The K3s and identity parts of `GET /v1/status`: is K3s there and ready, which issuer is configured, running
/// (what K3s started its API server with) and served (in force), and who aiosd reads the vaults as. Blocking.
enum HostHealthReport {
    static func k3s(workflow: K3sChangeWorkflow, kubeconfigPath: String) -> K3sHealth {
        let kubeconfig: Kubeconfig
        do {
            kubeconfig = try Kubeconfig.load(path: kubeconfigPath)
        } catch {
            return K3sHealth(present: false, note: "no usable K3s admin kubeconfig at \(kubeconfigPath): \(error)")
        }
        let ready = K3sAPIClient(kubeconfig: kubeconfig).isReady(timeout: .seconds(3))
        var health = K3sHealth(present: true, ready: ready, note: ready ? nil : "the API server does not answer /readyz with ok")
        do throws(K3sChangeError) {
            let status = try workflow.issuerStatus()
            health.configuredIssuer = status.configuredIssuers.first?.value
            health.runningIssuer = status.runningIssuers?.first
            health.servedIssuer = status.servedIssuer
            health.restartPending = status.restartPending
            if ready, let error = status.servedIssuerError { health.note = "the served issuer is unknown: \(error)" }
        } catch {
            health.note = "K3s' issuer cannot be read: \(error.message)"
        }
        return health
    }

    static func identity(_ identity: IdentityConfiguration, k3s: K3sHealth) -> IdentityHealth {
        let method = IdentityHealth.Method(rawValue: identity.method.rawValue) ?? .workloadIdentity
        var health = IdentityHealth(method: method, clientId: identity.clientId, tenantId: identity.tenantId)
        guard method == .workloadIdentity else { return health }
        health.serviceAccount = "\(identity.serviceAccount.namespace)/\(identity.serviceAccount.name)"
        health.issuer = k3s.servedIssuer
        health.enabled = k3s.servedIssuer != nil && k3s.servedIssuer == k3s.configuredIssuer
            && k3s.configuredIssuer != WorkloadIdentityPlanner.defaultIssuer
        return health
    }
}
