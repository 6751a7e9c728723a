import FoundationEssentials

/// The Kubernetes side of `aiosctl doctor`: the admin kubeconfig, `/readyz`, the issuer the API server serves,
/// and the service account workload identity exchanges tokens of. Blocking.
public enum DoctorClusterProbe {
    public static func probe(configuration: AgentConfiguration, into facts: inout DoctorFacts) {
        let kubeconfig: Kubeconfig
        do {
            kubeconfig = try Kubeconfig.load(path: configuration.sync.kubeconfig)
        } catch {
            facts.kubeconfigError = "\(error)"
            return
        }
        let api = K3sAPIClient(kubeconfig: kubeconfig)
        facts.apiServerReady = api.isReady()
        guard facts.apiServerReady == true else { return }
        do {
            facts.servedIssuer = try api.servedIssuer()
        } catch {
            facts.servedIssuerError = error.description
        }
        let kubernetes = KubernetesClient(kubeconfig: kubeconfig)
        facts.secretStoreExtension = ClusterSyncSource.controllerPresence(kubernetes)
        facts.secretStoreChecked = true
        if let response = try? kubernetes.send(.get, ArcCluster.configMapPath), response.status == 200 {
            facts.arcCluster = ArcCluster.fromConfigMap(Data(response.body))
        }
        guard configuration.identity.method == .workloadIdentity else { return }
        let account = configuration.identity.serviceAccount
        do {
            let response = try KubernetesClient(kubeconfig: kubeconfig)
                .send(.get, "/api/v1/namespaces/\(account.namespace)/serviceaccounts/\(account.name)")
            switch response.status {
            case 200: facts.serviceAccountExists = true
            case 404: facts.serviceAccountExists = false
            default: facts.serviceAccountError = KubernetesClient.error(from: response, doing: "get service account \(account)").message
            }
        } catch {
            facts.serviceAccountError = error.message
        }
    }
}
