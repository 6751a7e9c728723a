import Glibc

/// Reads the K3s configuration files the way K3s finds them: `config.yaml`, then `config.yaml.d/*.yaml|*.yml`
/// in lexical order (directories and other names ignored).
public enum K3sConfigReader {
    public static let defaultConfigPath = "/etc/rancher/k3s/config.yaml"

    public static func read(configPath: String = defaultConfigPath) throws(ConfigurationError) -> [(path: String, text: String)] {
        var files: [(path: String, text: String)] = []
        if let text = try readFile(configPath) { files.append((configPath, text)) }
        let directory = configPath + ".d"
        for name in K3sConfigMerger.dropInOrder(entries(of: directory)) {
            let path = "\(directory)/\(name)"
            var info = stat()
            guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            if let text = try readFile(path) { files.append((path, text)) }
        }
        return files
    }

    private static func readFile(_ path: String) throws(ConfigurationError) -> String? {
        do {
            return try SecureFileReader.readIfPresent(path: path, maximumBytes: 1 << 20)
        } catch {
            throw ConfigurationError(file: path, message: error.description)
        }
    }

    private static func entries(of directory: String) -> [String] {
        guard let stream = opendir(directory) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

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
