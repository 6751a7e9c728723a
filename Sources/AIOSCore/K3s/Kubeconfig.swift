import AIOSHTTP
import FoundationEssentials

/// The admin credentials K3s writes to `/etc/rancher/k3s/k3s.yaml`: the API server's URL, its CA, and a
/// client certificate and key, all inline (`*-data`, base64 PEM). Held in memory only.
public struct Kubeconfig: Sendable {
    public static let k3sAdminPath = "/etc/rancher/k3s/k3s.yaml"

    public var server: String
    public var certificateAuthorityPEM: [UInt8]?
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?

    public static func load(path: String = k3sAdminPath) throws(ConfigurationError) -> Kubeconfig {
        let text: String?
        do {
            text = try SecureFileReader.readIfPresent(path: path, maximumBytes: 1 << 20)
        } catch {
            throw ConfigurationError(file: path, message: error.description)
        }
        guard let text else {
            throw ConfigurationError(file: path, message: "does not exist; is K3s installed and started on this host?")
        }
        return try parse(text, file: path)
    }

    /// Follows `current-context` to its cluster and user (the first of each if there is no context).
    public static func parse(_ text: String, file: String) throws(ConfigurationError) -> Kubeconfig {
        let root = try YAMLLoader(file: file, limits: .kubeconfig).compose(text)
        guard let root, root.mapping != nil else { throw ConfigurationError(file: file, message: "not a kubeconfig") }
        let currentContext = root["current-context"]?.string
        let context = named(root["contexts"], currentContext)?["context"]
        guard let cluster = named(root["clusters"], context?["cluster"]?.string)?["cluster"] else {
            throw ConfigurationError(file: file, key: "clusters", message: "no cluster")
        }
        guard let server = cluster["server"]?.string, server.hasPrefix("https://") else {
            throw ConfigurationError(file: file, key: "clusters[].cluster.server", message: "missing or not an https:// URL")
        }
        let user = named(root["users"], context?["user"]?.string)?["user"]
        return Kubeconfig(
            server: server,
            certificateAuthorityPEM: try decode(cluster["certificate-authority-data"], key: "certificate-authority-data", file: file),
            clientCertificatePEM: try decode(user?["client-certificate-data"], key: "client-certificate-data", file: file),
            clientKeyPEM: try decode(user?["client-key-data"], key: "client-key-data", file: file))
    }

    /// The API server's CA as the only trust, and the admin client certificate.
    public var tlsCredentials: TLSCredentials {
        TLSCredentials(caBundlePEM: certificateAuthorityPEM, clientCertificatePEM: clientCertificatePEM, clientKeyPEM: clientKeyPEM,
                       trustsOnlyBundle: true)
    }

    private static func named(_ list: YAMLNode?, _ name: String?) -> YAMLNode? {
        guard let items = list?.sequence else { return nil }
        if let name, let match = items.first(where: { $0["name"]?.string == name }) { return match }
        return items.first
    }

    private static func decode(_ node: YAMLNode?, key: String, file: String) throws(ConfigurationError) -> [UInt8]? {
        guard let text = node?.string else { return nil }
        guard let data = Data(base64Encoded: text) else {
            throw ConfigurationError(file: file, key: key, message: "not valid base64")
        }
        return Array(data)
    }
}
