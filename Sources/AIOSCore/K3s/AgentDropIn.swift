/// The one K3s file aiosd owns: `/etc/rancher/k3s/config.yaml.d/90-aios.yaml`, holding its
/// `kube-apiserver-arg+:` entries (the append form, so the operator's own entries stay in force).
public enum AgentDropIn {
    public static let path = "/etc/rancher/k3s/config.yaml.d/90-aios.yaml"
    public static let key = "kube-apiserver-arg+"

    /// The file's text for `arguments`; each element double-quoted, so no value can change the YAML structure.
    public static func render(_ arguments: [APIServerArgument]) -> String {
        var text = """
            # Managed by aiosd (aios-agent). Change it with `aiosctl k3s apiserver-arg` and
            # `aiosctl workload-identity`, not by hand: aiosd rewrites this file.
            # Removing it changes the K3s API server at its next restart; `aiosctl workload-identity disable`
            # removes the agent's entries safely.

            """
        guard !arguments.isEmpty else { return text }
        text += "\(key):\n"
        for argument in arguments {
            let escaped = argument.description.replacingBackslashesAndQuotes()
            text += "  - \"\(escaped)\"\n"
        }
        return text
    }

    /// The agent's arguments from an existing drop-in, read with the same merge reader K3s' rules use.
    public static func arguments(in text: String, path: String = path) throws(ConfigurationError) -> [APIServerArgument] {
        let effective = try K3sConfigMerger().merge(files: [(path, text)])
        guard let setting = effective.setting("kube-apiserver-arg") else { return [] }
        return setting.values.map { APIServerArgument(parsing: $0.value) }
    }
}

extension String {
    fileprivate func replacingBackslashesAndQuotes() -> String {
        var result = ""
        for character in self {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            default: result.append(character)
            }
        }
        return result
    }
}
