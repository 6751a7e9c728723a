/// One K3s configuration source: `config.yaml`, a drop-in from `config.yaml.d/`, or the k3s unit's command line.
public struct K3sConfigSource: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case file, environment, commandLine }

    public var kind: Kind
    /// A file path, or a description of the command line (`ExecStart of k3s.service`).
    public var name: String

    public init(kind: Kind, name: String) {
        self.kind = kind
        self.name = name
    }
}

/// A value with the place it came from, so `aiosctl k3s config --effective` can say which file set what.
public struct K3sConfigValue: Sendable, Equatable {
    public var value: String
    public var source: K3sConfigSource
    /// 1-based line in the source file; nil for the command line.
    public var line: Int?

    public init(value: String, source: K3sConfigSource, line: Int?) {
        self.value = value
        self.source = source
        self.line = line
    }

    public var location: String { line.map { "\(source.name):\($0)" } ?? source.name }
}

/// One setting as K3s will see it: a key (a K3s flag name without dashes) and its values in order.
/// Scalars have one value; lists (`kube-apiserver-arg`, `node-label`, ...) one per element.
public struct K3sSetting: Sendable, Equatable {
    public var key: String
    public var values: [K3sConfigValue]
    public var isList: Bool

    public init(key: String, values: [K3sConfigValue], isList: Bool) {
        self.key = key
        self.values = values
        self.isList = isList
    }
}

/// What K3s will run with, computed with K3s' own rules (reference/host-side.md 1.2-1.3):
/// `config.yaml`, then the drop-ins in lexical order; a later file replaces a key's value (lists too)
/// unless the key ends in `+`, which appends; command-line flags override the files, replacing whole lists.
public struct K3sEffectiveConfiguration: Sendable, Equatable {
    /// Settings in the order their keys first appeared, as K3s keeps them.
    public private(set) var settings: [K3sSetting] = []

    public init() {}

    public func setting(_ key: String) -> K3sSetting? { settings.first { $0.key == key } }

    /// K3s flags that are string slices: one value given once is still a list.
    static let listKeys: Set<String> = [
        "kube-apiserver-arg", "kube-controller-manager-arg", "kube-scheduler-arg", "kube-cloud-controller-manager-arg",
        "kubelet-arg", "kube-proxy-arg", "etcd-arg", "node-label", "node-taint", "disable", "tls-san",
    ]

    /// Applies one file's or the command line's settings on top of what came before.
    mutating func apply(key rawKey: String, values: [K3sConfigValue], isList: Bool, fromCommandLine: Bool) {
        let appends = rawKey.hasSuffix("+") && !fromCommandLine
        let key = rawKey.hasSuffix("+") ? String(rawKey.dropLast()) : rawKey
        let isList = isList || appends || Self.listKeys.contains(key)
        if let index = settings.firstIndex(where: { $0.key == key }) {
            if appends {
                settings[index].values += values
                settings[index].isList = true
            } else {
                settings[index].values = values
                settings[index].isList = isList
            }
        } else {
            settings.append(K3sSetting(key: key, values: values, isList: isList))
        }
    }
}
