/// K3s settings whose values are credentials: never shown by aiosctl, logged, or sent over the socket.
public enum K3sSecrets {
    /// The join tokens, the datastore URL (it carries the database password), the VPN auth key (k3s pkg/cli/cmds),
    /// and `cluster-secret`, the token's old name.
    public static let keys: Set<String> = [
        "token", "agent-token", "datastore-endpoint", "vpn-auth", "cluster-secret",
    ]
    /// Every `etcd-s3-*` flag: the keys and session token, and the endpoint and proxy URLs, which may carry them too.
    public static let prefixes = ["etcd-s3-"]
    /// K3s' short flags for secret long ones (`-t` is `--token`).
    public static let shortNames = ["t": "token"]
    public static let redacted = "<redacted>"

    public static func isSecret(_ key: String) -> Bool {
        var name = key.hasSuffix("+") || key.hasSuffix("-") ? String(key.dropLast()) : key
        name = shortNames[name] ?? name
        return keys.contains(name) || prefixes.contains { name.hasPrefix($0) }
    }

    /// The command line with the values of secret flags replaced (`--token=x` and `--token x`).
    public static func redact(commandLine: [String]) -> [String] {
        var result: [String] = []
        var redactNext = false
        for argument in commandLine {
            if redactNext {
                result.append(redacted)
                redactNext = false
                continue
            }
            let name = argument.drop(while: { $0 == "-" })
            if argument.hasPrefix("-"), let equals = name.firstIndex(of: "="), isSecret(String(name[..<equals])) {
                result.append(String(argument.prefix(argument.count - name.count)) + name[..<equals] + "=" + redacted)
            } else {
                if argument.hasPrefix("-") && isSecret(String(name)) { redactNext = true }
                result.append(argument)
            }
        }
        return result
    }
}
