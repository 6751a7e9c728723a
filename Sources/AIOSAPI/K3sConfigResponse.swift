/// `GET /v1/k3s/config`: the K3s configuration files, the k3s unit's command line, and the merged result.
/// Values of credential settings (`token`, `agent-token`, `datastore-endpoint`, ...) are always `<redacted>`.
public struct K3sConfigResponse: Codable, Sendable, Equatable {
    public var configPath: String
    /// Each file K3s reads, in the order it reads them, with its own settings.
    public var files: [File]
    public var unit: String
    public var unitLoaded: Bool
    /// The unit's ExecStart= arguments (argv[0] included); its flags override every file.
    public var commandLine: [String]
    /// What K3s will run with, each value annotated with where it came from.
    public var effective: [Setting]

    public init(configPath: String, files: [File], unit: String, unitLoaded: Bool, commandLine: [String], effective: [Setting]) {
        self.configPath = configPath
        self.files = files
        self.unit = unit
        self.unitLoaded = unitLoaded
        self.commandLine = commandLine
        self.effective = effective
    }

    public struct File: Codable, Sendable, Equatable {
        public var path: String
        public var settings: [Setting]

        public init(path: String, settings: [Setting]) {
            self.path = path
            self.settings = settings
        }
    }

    public struct Setting: Codable, Sendable, Equatable {
        public var key: String
        public var isList: Bool
        public var values: [Value]

        public init(key: String, isList: Bool, values: [Value]) {
            self.key = key
            self.isList = isList
            self.values = values
        }
    }

    public struct Value: Codable, Sendable, Equatable {
        public var value: String
        /// `/etc/rancher/k3s/config.yaml:3`, or `ExecStart of k3s.service`.
        public var from: String

        public init(value: String, from: String) {
            self.value = value
            self.from = from
        }
    }
}
