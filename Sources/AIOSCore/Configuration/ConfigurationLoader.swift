import AIOSHTTP
/// Loads and validates `aiosd.yaml` and its drop-ins `aiosd.yaml.d/*.yaml`. A missing file means defaults; anything
/// wrong is a `ConfigurationError` naming the file, line and key.
public struct ConfigurationLoader: Sendable {
    public init() {}

    /// The file, then each drop-in in byte order of its name: a later file sets only the keys it names, over the
    /// earlier ones, so an operator's change survives upgrades of the packaged file.
    public func load(path: String) throws(ConfigurationError) -> AgentConfiguration {
        var configuration = AgentConfiguration()
        for file in try Self.files(path: path) {
            configuration = try parse(file.text, file: file.path, onto: configuration)
        }
        return configuration
    }

    /// The files `load(path:)` reads, in the order it applies them.
    public static func files(path: String) throws(ConfigurationError) -> [(path: String, text: String)] {
        try LayeredConfigFiles.read(mainPath: path, order: dropInOrder)
    }

    static func dropInOrder(_ names: [String]) -> [String] {
        names.filter { $0.hasSuffix(".yaml") && !$0.hasPrefix(".") }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// Applies the keys of one file over `base` (the defaults, or what the files before it set).
    public func parse(_ text: String, file: String, onto base: AgentConfiguration = AgentConfiguration())
        throws(ConfigurationError) -> AgentConfiguration {
        var root = try YAMLReader(file: file).rootMapping(of: text)
        var configuration = base

        if var control = try root.mapping("control") {
            var c = configuration.control
            if let socket = try control.nonEmptyString("socket") {
                guard socket.hasPrefix("/") else {
                    throw ConfigurationError(file: file, key: "control.socket", message: "must be an absolute path, got \"\(socket)\"")
                }
                // sun_path holds 108 bytes including the terminating NUL.
                guard socket.utf8.count <= 107 else {
                    throw ConfigurationError(file: file, key: "control.socket", message: "longer than the 107 bytes a Unix socket path may have")
                }
                c.socket = socket
            }
            if let group = try control.nonEmptyString("socketGroup") { c.socketGroup = group }
            if let group = try control.nonEmptyString("adminGroup") { c.adminGroup = group }
            if let group = try control.nonEmptyString("k3sAdminGroup") { c.k3sAdminGroup = group }
            if let value = try control.positiveInt("maxConnections", max: 4096) { c.maxConnections = value }
            if let value = try control.duration("headerTimeout", minimum: .milliseconds(100)) { c.headerTimeout = value }
            if let value = try control.duration("bodyTimeout", minimum: .milliseconds(100)) { c.bodyTimeout = value }
            if let value = try control.duration("idleTimeout", minimum: .seconds(1)) { c.idleTimeout = value }
            if let value = try control.positiveInt("maxBodyBytes", max: 64 << 20) { c.maxBodyBytes = value }
            try control.finish(known: ["socket", "socketGroup", "adminGroup", "k3sAdminGroup", "maxConnections", "headerTimeout", "bodyTimeout",
                                       "idleTimeout", "maxBodyBytes"])
            configuration.control = c
        }
        if var k3s = try root.mapping("k3s") {
            if let value = try k3s.duration("readyTimeout", minimum: .seconds(10)) { configuration.k3s.readyTimeout = value }
            try k3s.finish(known: ["readyTimeout"])
        }
        if var identity = try root.mapping("identity") {
            var i = configuration.identity
            if let method = try identity.choice("method", of: IdentityConfiguration.Method.self) { i.method = method }
            if let tenant = try identity.nonEmptyString("tenantId") {
                guard KubernetesNames.isGUID(tenant) else { throw identity.invalid("tenantId", "expected a GUID, got \"\(tenant)\"") }
                i.tenantId = tenant
            }
            if let client = try identity.nonEmptyString("clientId") {
                guard KubernetesNames.isGUID(client) else { throw identity.invalid("clientId", "expected a GUID, got \"\(client)\"") }
                i.clientId = client
            }
            if let account = try identity.nonEmptyString("serviceAccount") {
                guard let parsed = ServiceAccountReference(parsing: account) else {
                    throw identity.invalid("serviceAccount", "expected NAMESPACE/NAME, got \"\(account)\"")
                }
                i.serviceAccount = parsed
            }
            if let file = try identity.nonEmptyString("clientSecretFile") {
                guard file.hasPrefix("/") else { throw identity.invalid("clientSecretFile", "must be an absolute path") }
                i.clientSecretFile = file
            }
            if let endpoint = try identity.choice("managedIdentityEndpoint", of: IdentityConfiguration.ManagedIdentityEndpoint.self) {
                i.managedIdentityEndpoint = endpoint
            }
            if let host = try identity.nonEmptyString("authorityHost") {
                guard host.hasPrefix("https://"), !host.contains(where: { $0 == " " || $0 == "?" || $0 == "#" }) else {
                    throw identity.invalid("authorityHost", "expected an https:// URL, got \"\(host)\"")
                }
                i.authorityHost = host.hasSuffix("/") ? String(host.dropLast()) : host
            }
            try identity.finish(known: ["method", "tenantId", "clientId", "serviceAccount", "clientSecretFile",
                                        "managedIdentityEndpoint", "authorityHost"])
            configuration.identity = i
        }
        if var sync = try root.mapping("sync") {
            var s = configuration.sync
            if let value = try sync.duration("interval", minimum: .seconds(10)) { s.interval = value }
            if let value = try sync.duration("jitter", minimum: .zero) { s.jitter = value }
            if let value = try sync.choice("deletedInVault", of: SyncConfiguration.DeletedInVaultPolicy.self) { s.deletedInVault = value }
            if let value = try sync.nonEmptyString("definitions") {
                guard value.hasPrefix("/") else { throw sync.invalid("definitions", "must be an absolute path") }
                s.definitions = value
            }
            if let value = try sync.nonEmptyString("defaultNamespace") {
                guard KubernetesNames.isLabel(value) else { throw sync.invalid("defaultNamespace", "\"\(value)\" is not a namespace name") }
                s.defaultNamespace = value
            }
            if let value = try sync.nonEmptyString("kubeconfig") {
                guard value.hasPrefix("/") else { throw sync.invalid("kubeconfig", "must be an absolute path") }
                s.kubeconfig = value
            }
            if let value = try sync.positiveInt("concurrency", max: 64) { s.concurrency = value }
            let limit = try sync.positiveInt("vaultRequestLimit", max: KeyVaultRequestBudget.serviceLimit)
            let window = try sync.duration("vaultRequestWindow", minimum: .seconds(1))
            // 0.1's per-second rate, still read: R per second is R x 10 per 10 s window.
            if let perSecond = try sync.positiveInt("vaultRequestsPerSecond", max: 4000) {
                guard limit == nil, window == nil else {
                    throw sync.invalid("vaultRequestsPerSecond", "give either vaultRequestsPerSecond (0.1) or vaultRequestLimit/vaultRequestWindow, not both")
                }
                s.vaultRequestLimit = min(perSecond * 10, KeyVaultRequestBudget.serviceLimit)
                s.vaultRequestWindow = .seconds(10)
            }
            if let limit { s.vaultRequestLimit = limit }
            if let window { s.vaultRequestWindow = window }
            if let value = try sync.duration("retryAfterFailure", minimum: .seconds(1)) { s.retryAfterFailure = value }
            try sync.finish(known: ["interval", "jitter", "deletedInVault", "definitions", "defaultNamespace", "kubeconfig",
                                    "concurrency", "vaultRequestLimit", "vaultRequestWindow", "vaultRequestsPerSecond", "retryAfterFailure"])
            configuration.sync = s
        }
        if var secrets = try root.mapping("secrets") {
            configuration.secrets = try Self.secretsPolicy(&secrets, onto: configuration.secrets)
        }
        if var cluster = try root.mapping("cluster") {
            var c = configuration.cluster
            if let value = try cluster.choice("secretSyncs", of: ClusterSyncConfiguration.Selection.self) { c.secretSyncs = value }
            if let value = try cluster.nonEmptyString("selectorLabel") {
                let parts = value.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, KubernetesNames.isQualifiedKey(parts[0]), KubernetesNames.isLabelValue(parts[1]) else {
                    throw cluster.invalid("selectorLabel", "expected KEY=VALUE with a label key and value, got \"\(value)\"")
                }
                c.selectorLabel = value
            }
            if let value = try cluster.choice("onSecretSyncDeleted", of: ClusterSyncConfiguration.DeletedPolicy.self) { c.onSecretSyncDeleted = value }
            if let names = try cluster.stringList("allowedNamespaces") {
                if let bad = names.first(where: { !KubernetesNames.isLabel($0) }) {
                    throw cluster.invalid("allowedNamespaces", "\"\(bad)\" is not a namespace name")
                }
                c.allowedNamespaces = Set(names)
            }
            if let value = try cluster.nonEmptyString("nodeName") {
                guard KubernetesNames.isSubdomain(value), value == value.lowercased() else {
                    throw cluster.invalid("nodeName", "\"\(value)\" is not a Kubernetes node name (lowercase DNS subdomain)")
                }
                c.nodeName = value
            }
            if var election = try cluster.mapping("leaderElection") {
                var e = c.leaderElection
                if let value = try election.choice("mode", of: LeaderElectionSettings.Mode.self) { e.mode = value }
                if let value = try election.duration("leaseDuration", minimum: .seconds(1)) { e.leaseDuration = value }
                if let value = try election.duration("renewDeadline", minimum: .seconds(1)) { e.renewDeadline = value }
                if let value = try election.duration("retryPeriod", minimum: .seconds(1)) { e.retryPeriod = value }
                try election.finish(known: ["mode", "leaseDuration", "renewDeadline", "retryPeriod"])
                if let problem = e.problem { throw election.invalid("leaseDuration", problem) }
                c.leaderElection = e
            }
            try cluster.finish(known: ["secretSyncs", "selectorLabel", "onSecretSyncDeleted", "allowedNamespaces", "nodeName", "leaderElection"])
            configuration.cluster = c
        }
        if var metrics = try root.mapping("metrics") {
            if let value = try metrics.nonEmptyString("listen") {
                guard let address = MetricsListenAddress(parsing: value) else {
                    throw metrics.invalid("listen", "expected PORT (on 127.0.0.1), IPV4:PORT or [IPV6]:PORT, got \"\(value)\"")
                }
                configuration.metrics.listen = address
            }
            try metrics.finish(known: ["listen"])
        }
        if var network = try root.mapping("network") {
            if let proxy = try network.nonEmptyString("proxy") {
                guard OutboundProxy.isValid(proxy) else {
                    // Not echoed: a proxy URL may carry a password.
                    throw network.invalid("proxy", "expected http://HOST:PORT or https://HOST:PORT (no user or password, no path)")
                }
                configuration.network.proxy = proxy
            }
            try network.finish(known: ["proxy"])
        }
        if let level = try root.choice("logLevel", of: AgentConfiguration.LogLevel.self) { configuration.logLevel = level }
        if let timeout = try root.duration("shutdownTimeout", minimum: .seconds(1)) { configuration.shutdownTimeout = timeout }
        try root.finish(known: ["control", "k3s", "identity", "sync", "secrets", "cluster", "metrics", "network", "logLevel", "shutdownTimeout"])
        return configuration
    }

    /// `secrets:`, the bounds of an operator's `secret add`; kube-system is root's alone, so it cannot be listed.
    /// `base`: what earlier files set (a drop-in changes only the keys it names).
    static func secretsPolicy(_ secrets: inout YAMLMapping, onto base: SecretsPolicyConfiguration) throws(ConfigurationError)
        -> SecretsPolicyConfiguration {
        var policy = base
        let system = SecretsPolicyConfiguration.systemNamespace
        if let namespaces = try secrets.stringList("allowedNamespaces", problem: { name in
            if !KubernetesNames.isLabel(name) { return "\"\(name)\" is not a namespace name" }
            return name == system ? "\(system) cannot be opened to operators; only root targets it" : nil
        }) {
            policy.allowedNamespaces = namespaces
        }
        if let accounts = try secrets.stringList("allowedServiceAccounts", problem: { text in
            let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, KubernetesNames.isLabel(parts[0]), parts[1] == "*" || ServiceAccountReference(parsing: text) != nil else {
                return "expected NAMESPACE/NAME or NAMESPACE/*, got \"\(text)\""
            }
            return parts[0] == system ? "service accounts in \(system) cannot be opened to operators" : nil
        }) {
            policy.allowedServiceAccounts = accounts
        }
        try secrets.finish(known: ["allowedNamespaces", "allowedServiceAccounts"])
        return policy
    }
}
