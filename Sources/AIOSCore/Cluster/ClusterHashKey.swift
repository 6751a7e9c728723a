import AIOSCrypto
import FoundationEssentials

/// The content-hash key every node of a cluster shares: a Secret created once, by whichever node gets there
/// first (create-if-absent: a 409 means another node won, and its key is read). With one key, a new leader
/// computes the hashes the old one wrote, sees "unchanged" and writes nothing.
public enum ClusterHashKey {
    public static let secretName = "aios-content-hash-key"
    public static let dataKey = "key"
    public static let roleLabel = "aios.microsoft.com/role"

    /// The cluster's key. When there is none yet, `proposal` becomes it: the host's key from before clusters
    /// shared one (so a single node upgraded in place keeps its hashes and rewrites nothing), else a new random key.
    public static func obtain(_ kubernetes: KubernetesClient, proposal: [UInt8]?,
                              namespace: String = LeaderElectionSettings.namespace) throws(SyncIssue) -> [UInt8] {
        do {
            if let existing = try read(kubernetes, namespace: namespace) { return existing }
            let key = proposal?.count == 32 ? proposal! : OpenSSL.randomBytes(count: 32)
            let labels = [SecretSyncEngine.managedByLabel: SecretSyncEngine.managedByValue, roleLabel: "content-hash-key"]
            if try kubernetes.createSecret(namespace: namespace, name: secretName, type: "Opaque", labels: labels, annotations: [:],
                                           data: [dataKey: key]) != nil {
                return key
            }
            // Another node created it between our read and our create: theirs is the key.
            if let existing = try read(kubernetes, namespace: namespace) { return existing }
        } catch let issue as SyncIssue {
            throw issue
        } catch {
            throw SyncIssue(code: "KubernetesError", message: "cannot read or create the cluster's content-hash key (Secret \(namespace)/\(secretName)): \(error)",
                            hint: "check K3s: systemctl status k3s")
        }
        throw SyncIssue(code: "KubernetesError", message: "the cluster's content-hash key (Secret \(namespace)/\(secretName)) vanished while it was read")
    }

    private static func read(_ kubernetes: KubernetesClient, namespace: String) throws(SyncIssue) -> [UInt8]? {
        let content: KubernetesClient.SecretContent?
        do {
            content = try kubernetes.getSecretContent(namespace: namespace, name: secretName)
        } catch {
            throw SyncIssue(code: "KubernetesError", message: error.description)
        }
        guard let content else { return nil }
        guard let key = content.data[dataKey], key.count == 32 else {
            throw SyncIssue(code: "ContentHashKeyInvalid", message: "Secret \(namespace)/\(secretName) does not hold a 32-byte key under \(dataKey)",
                            hint: "delete it (kubectl -n \(namespace) delete secret \(secretName)); the next sync creates a new one and rewrites each Secret once")
        }
        return key
    }
}
