/// K3s settings whose values are credentials: never shown by aiosctl, logged, or sent over the socket.
public enum K3sSecrets {
    public static let keys: Set<String> = [
        "token", "agent-token", "datastore-endpoint", "etcd-s3-access-key", "etcd-s3-secret-key", "etcd-s3-session-token",
    ]
    public static let redacted = "<redacted>"

    public static func isSecret(_ key: String) -> Bool {
        keys.contains(key.hasSuffix("+") ? String(key.dropLast()) : key)
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
