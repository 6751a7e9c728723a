/// What K3s will run with on this host, read with K3s' own rules: where its configuration file is (`K3S_CONFIG_FILE`
/// in the unit's environment, else `--config`/`-c` on ExecStart, else /etc/rancher/k3s/config.yaml), the file and
/// its `.d` drop-ins in name order, the unit's environment files and its command line. Plan, verify, status, rollback
/// and recovery all ask this one value which issuer the API server will serve.
public struct K3sRunConfiguration: Sendable {
    public static let defaultConfigPath = "/etc/rancher/k3s/config.yaml"
    public static let agentDropInName = "90-aios.yaml"

    public var unit: K3sUnitDescription
    public var configPath: String
    /// The configuration files in K3s' reading order, the agent's drop-in included when it exists.
    public var files: [(path: String, text: String)]
    /// The unit's environment (`Environment=` as one pseudo-file, then each `EnvironmentFile=`).
    public var environment: [(path: String, text: String)]

    public var dropInDirectory: String { configPath + ".d" }
    public var agentDropInPath: String { dropInDirectory + "/" + Self.agentDropInName }
    public var agentDropInText: String? { files.first { $0.path == agentDropInPath }?.text }

    public init(unit: K3sUnitDescription, configPath: String, files: [(path: String, text: String)],
                environment: [(path: String, text: String)]) {
        self.unit = unit
        self.configPath = configPath
        self.files = files
        self.environment = environment
    }

    /// Reads the configuration `unit` will start K3s with.
    public static func read(unit: K3sUnitDescription, files access: K3sFileAccess) throws(K3sChangeError) -> K3sRunConfiguration {
        var environment: [(path: String, text: String)] = []
        if !unit.environment.isEmpty {
            environment.append(("Environment= of \(unit.name)", unit.environment.joined(separator: "\n")))
        }
        for path in unit.environmentFiles {
            if let text = try access.read(path) { environment.append((path, text)) }
        }
        let configPath = try Self.configPath(commandLine: unit.commandLine, environment: environment)
        var files: [(path: String, text: String)] = []
        if let text = try access.read(configPath) { files.append((configPath, text)) }
        let directory = configPath + ".d"
        for name in K3sConfigMerger.dropInOrder(access.list(directory)) {
            let path = directory + "/" + name
            if let text = try access.read(path) { files.append((path, text)) }
        }
        return K3sRunConfiguration(unit: unit, configPath: configPath, files: files, environment: environment)
    }

    /// K3s' `configfilearg` rule (k3s-io/k3s pkg/configfilearg/parser.go, `findConfigFileFlag`): a non-empty
    /// `K3S_CONFIG_FILE` first, even over the command line (systemd lets `EnvironmentFile=` override
    /// `Environment=`, and a later file an earlier one); else the first `--config`/`-c` (or `--config=`/`-c=`) on
    /// the command line; else the default.
    static func configPath(commandLine: [String], environment: [(path: String, text: String)]) throws(K3sChangeError) -> String {
        var fromEnvironment: String?
        for file in environment {
            do {
                for variable in try K3sEnvironment.parse(file.text, file: file.path) where variable.name == "K3S_CONFIG_FILE" {
                    fromEnvironment = variable.value
                }
            } catch {
                throw K3sChangeError(.invalidConfiguration, "cannot read K3s' environment: \(error)")
            }
        }
        if let fromEnvironment, !fromEnvironment.isEmpty { return fromEnvironment }
        let arguments = Array(commandLine.dropFirst())
        for (index, argument) in arguments.enumerated() {
            for flag in ["--config", "-c"] {
                if argument == flag, index + 1 < arguments.count { return arguments[index + 1] }
                if argument.hasPrefix(flag + "=") { return String(argument.dropFirst(flag.count + 1)) }
            }
        }
        return defaultConfigPath
    }

    /// The files with the agent's drop-in replaced by `dropIn` (nil: absent), in K3s' reading order.
    public func files(withAgentDropIn dropIn: String?) -> [(path: String, text: String)] {
        var edited = files.filter { $0.path != agentDropInPath }
        if let dropIn { edited.append((agentDropInPath, dropIn)) }
        let configPath = self.configPath
        return edited.sorted { ($0.path == configPath ? "" : $0.path) < ($1.path == configPath ? "" : $1.path) }
    }

    /// The effective configuration with the agent's drop-in replaced by `dropIn` (nil: absent).
    public func effective(withAgentDropIn dropIn: String?) throws(K3sChangeError) -> K3sEffectiveConfiguration {
        do {
            return try K3sConfigMerger().merge(files: files(withAgentDropIn: dropIn), environment: environment,
                                               commandLine: Array(unit.commandLine.dropFirst()),
                                               commandLineSource: "ExecStart of \(unit.name)")
        } catch {
            throw K3sChangeError(.invalidConfiguration, "K3s would not accept its configuration: \(error)",
                                 hint: "fix \(error.file), then check again with: aiosctl k3s config")
        }
    }

    /// The effective configuration as the files are now.
    public func effective() throws(K3sChangeError) -> K3sEffectiveConfiguration {
        try effective(withAgentDropIn: agentDropInText)
    }

    /// The `service-account-issuer` values the API server starts with (the first signs and is served), after
    /// K3s' `GetArgs` merge with its default issuer.
    public func issuers(withAgentDropIn dropIn: String?) throws(K3sChangeError) -> [String] {
        let effective = try effective(withAgentDropIn: dropIn)
        return KubeAPIServerArguments.issuers(configured: effective)
    }

    /// The issuer the API server will serve with the agent's drop-in `dropIn`.
    public func servedIssuer(withAgentDropIn dropIn: String?) throws(K3sChangeError) -> String {
        let effective = try effective(withAgentDropIn: dropIn)
        return KubeAPIServerArguments.issuers(configured: effective).first ?? KubeAPIServerArguments.defaultIssuer(configured: effective)
    }
}

/// K3s' `util.GetArgs` for the flags the agent reasons about: a plain `name=value` replaces K3s' default, repeated
/// names keep every value in order, `name+=v` keeps the default first, `name-=v` puts `v` before it.
public enum KubeAPIServerArguments {
    /// The issuer K3s passes by default: `https://kubernetes.default.svc.<cluster-domain>`.
    public static func defaultIssuer(configured effective: K3sEffectiveConfiguration) -> String {
        let domain = effective.setting("cluster-domain")?.values.last?.value ?? "cluster.local"
        return "https://kubernetes.default.svc." + domain
    }

    /// Every value of `flag` the API server gets, `initial` being K3s' default (nil: none).
    public static func values(of flag: String, initial: String?, in arguments: [APIServerArgument]) -> [String] {
        var initial = initial
        var values: [String]?
        for argument in arguments where argument.flagName == flag {
            var list = values ?? []
            if argument.name.hasSuffix("+") {
                if let value = initial { list.append(value) }
                list.append(argument.value)
            } else if argument.name.hasSuffix("-") {
                list.append(argument.value)
                if let value = initial { list.append(value) }
            } else {
                list.append(argument.value)
            }
            initial = nil
            values = list
        }
        return values ?? initial.map { [$0] } ?? []
    }

    /// The issuers the API server starts with, in order.
    public static func issuers(configured effective: K3sEffectiveConfiguration) -> [String] {
        let arguments = (effective.setting("kube-apiserver-arg")?.values ?? []).map { APIServerArgument(parsing: $0.value) }
        return values(of: "service-account-issuer", initial: defaultIssuer(configured: effective), in: arguments)
    }

    /// The first value kube-apiserver would refuse as "already specified", if any.
    public static func duplicate(in issuers: [String]) -> String? {
        var seen: Set<String> = []
        for issuer in issuers where !seen.insert(issuer).inserted { return issuer }
        return nil
    }

    /// The arguments of K3s' log line `Running kube-apiserver --a=b --c=d` (as logrus writes it in the journal:
    /// `time="..." level=info msg="Running kube-apiserver ..."`, quotes and backslashes escaped).
    public static func parseRunningLine(_ line: String) -> [String]? {
        let marker = "Running kube-apiserver "
        guard let start = line.firstRange(of: marker) else { return nil }
        var text = ""
        var escaped = false
        let quoted = line[..<start.lowerBound].hasSuffix("msg=\"")
        for character in line[start.upperBound...] {
            if escaped {
                text.append(character)
                escaped = false
            } else if quoted && character == "\\" {
                escaped = true
            } else if quoted && character == "\"" {
                break
            } else {
                text.append(character)
            }
        }
        return text.split(separator: " ").map(String.init)
    }
}
