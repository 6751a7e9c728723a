/// The K3s API server asked with the admin credentials in `kubeconfigPath`, read again for each question:
/// K3s rewrites them when it starts.
public struct KubeconfigAPIServerProbe: K3sAPIServerProbe {
    public let kubeconfigPath: String

    public init(kubeconfigPath: String = Kubeconfig.k3sAdminPath) { self.kubeconfigPath = kubeconfigPath }

    public func isReady() -> Bool {
        guard let kubeconfig = try? Kubeconfig.load(path: kubeconfigPath) else { return false }
        return K3sAPIClient(kubeconfig: kubeconfig).isReady()
    }

    public func servedIssuer() throws(K3sChangeError) -> String {
        do {
            return try K3sAPIClient(kubeconfig: try Kubeconfig.load(path: kubeconfigPath)).servedIssuer()
        } catch let error as K3sAPIClient.Failure {
            throw K3sChangeError(.failed, error.description)
        } catch {
            throw K3sChangeError(.failed, "cannot read K3s' admin credentials: \(error)")
        }
    }
}
