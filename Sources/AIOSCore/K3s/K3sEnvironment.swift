/// K3s' environment files (`EnvironmentFile=` of k3s.service, as K3s' installer writes the unit): the
/// `K3S_*` variables that K3s reads as flags. For a flag, K3s takes the command line first, then the
/// environment, then the configuration files.
public enum K3sEnvironment {
    /// The installer's `EnvironmentFile=-/etc/default/%N`, `-/etc/sysconfig/%N` and `-/etc/systemd/system/k3s.service.env`.
    public static let defaultFiles = ["/etc/default/k3s", "/etc/sysconfig/k3s", "/etc/systemd/system/k3s.service.env"]

    /// Variables K3s server reads as flags (k3s pkg/cli/cmds/server.go `EnvVar:`; the etcd S3 keys are read from
    /// the AWS SDK's names, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).
    public static let flags: [String: String] = [
        "K3S_TOKEN": "token", "K3S_TOKEN_FILE": "token-file", "K3S_AGENT_TOKEN": "agent-token",
        "K3S_AGENT_TOKEN_FILE": "agent-token-file", "K3S_URL": "server", "K3S_DATASTORE_ENDPOINT": "datastore-endpoint",
        "K3S_DATASTORE_CAFILE": "datastore-cafile", "K3S_DATASTORE_CERTFILE": "datastore-certfile",
        "K3S_DATASTORE_KEYFILE": "datastore-keyfile", "K3S_KUBECONFIG_OUTPUT": "write-kubeconfig",
        "K3S_KUBECONFIG_MODE": "write-kubeconfig-mode", "K3S_KUBECONFIG_GROUP": "write-kubeconfig-group",
        "K3S_CLUSTER_INIT": "cluster-init", "K3S_CLUSTER_RESET": "cluster-reset", "K3S_NODE_NAME": "node-name",
        "K3S_SELINUX": "selinux", "K3S_LB_SERVER_PORT": "lb-server-port", "K3S_RESOLV_CONF": "resolv-conf",
        "K3S_DATA_DIR": "data-dir", "K3S_CONFIG_FILE": "config", "K3S_DEBUG": "debug",
        "AWS_ACCESS_KEY_ID": "etcd-s3-access-key", "AWS_SECRET_ACCESS_KEY": "etcd-s3-secret-key",
        "K3S_VPN_AUTH": "vpn-auth", "K3S_VPN_AUTH_FILE": "vpn-auth-file",
    ]

    public struct Variable: Sendable, Equatable {
        public var name: String
        public var value: String
        public var line: Int
    }

    /// systemd's EnvironmentFile syntax, as far as K3s' installer uses it: `NAME=value`, optionally quoted with
    /// ' or ", blank lines and `#`/`;` comments. Malformed lines are errors naming the line.
    public static func parse(_ text: String, file: String) throws(ConfigurationError) -> [Variable] {
        var variables: [Variable] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigurationError(file: file, line: index + 1, message: "expected NAME=value")
            }
            let name = String(line[..<equals]).trimmingSpaces()
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                // Not echoed: the line of a root-only file may be a credential.
                throw ConfigurationError(file: file, line: index + 1, message: "not a variable name (letters, digits and _ before the =)")
            }
            var value = Substring(String(line[line.index(after: equals)...]).trimmingSpaces())
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = value.dropFirst().dropLast()
            }
            variables.append(Variable(name: name, value: String(value), line: index + 1))
        }
        return variables
    }
}

extension StringProtocol {
    fileprivate func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed().drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed())
    }
}
