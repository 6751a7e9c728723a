import FoundationEssentials

/// The definitions in `/etc/aios/secrets.d`: read them all (a broken file is reported and skipped, never
/// taken as "this secret was removed"), and write or remove one atomically.
public struct SyncDefinitionDirectory: Sendable {
    public let path: String
    public let defaultNamespace: String

    /// Parsed files by identity; shared by every reader of the directory in the process.
    let cache: SyncDefinitionCache

    public init(path: String, defaultNamespace: String) {
        self.init(path: path, defaultNamespace: defaultNamespace, cache: .shared)
    }

    init(path: String, defaultNamespace: String, cache: SyncDefinitionCache) {
        self.path = path
        self.defaultNamespace = defaultNamespace
        self.cache = cache
    }

    public struct Loaded: Sendable {
        public var definitions: [SyncDefinition]
        /// Files that could not be used, with the reason (file:line: key: message).
        public var invalid: [(name: String, error: ConfigurationError)]

        public init(definitions: [SyncDefinition], invalid: [(name: String, error: ConfigurationError)]) {
            self.definitions = definitions
            self.invalid = invalid
        }
    }

    public func load() -> Loaded {
        var loaded = Loaded(definitions: [], invalid: [])
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: path) else { return loaded }
        var present: Set<String> = []
        for entry in entries.sorted() {
            guard let name = SyncDefinitionFile.definitionName(ofFile: entry) else { continue }
            let file = "\(path)/\(entry)"
            present.insert(file)
            let identity = cache.identity(of: file, defaultNamespace: defaultNamespace)
            if let identity, let cached = cache.definition(at: file, identity: identity.identity) {
                loaded.definitions.append(cached)
                continue
            }
            do {
                let definition = try read(name: name, file: file)
                // Cached only if the file did not change while it was read.
                if let identity, identity.settled,
                   cache.identity(of: file, defaultNamespace: defaultNamespace)?.identity == identity.identity {
                    cache.store(definition, at: file, identity: identity.identity)
                }
                loaded.definitions.append(definition)
            } catch {
                loaded.invalid.append((name, error))
            }
        }
        cache.keep(only: present, in: path)
        return loaded
    }

    public func file(for name: String) -> String { "\(path)/\(name)\(SyncDefinitionFile.suffix)" }

    public func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(for: name)) }

    private func read(name: String, file: String) throws(ConfigurationError) -> SyncDefinition {
        let text: String?
        do {
            text = try SecureFileReader.readIfPresent(path: file, maximumBytes: SyncDefinitionFile.maximumBytes)
        } catch {
            throw ConfigurationError(file: file, message: error.description)
        }
        guard let text else { throw ConfigurationError(file: file, message: "disappeared while being read") }
        return try SyncDefinitionFile.parse(text, file: file, name: name, defaultNamespace: defaultNamespace)
    }

    /// Writes `definition` as `NAME.yaml` (0644; it holds names, never values).
    public func write(_ definition: SyncDefinition) throws(AtomicFile.Error) {
        try AtomicFile.createDirectory(path, mode: 0o755)
        try AtomicFile.write(SyncDefinitionFile.render(definition), to: file(for: definition.name), mode: 0o644)
    }

    public func remove(_ name: String) throws(AtomicFile.Error) {
        try AtomicFile.remove(file(for: name))
    }
}
