
/// Merges K3s configuration sources into the effective configuration.
public struct K3sConfigMerger: Sendable {
    public init() {}

    /// The files K3s reads for `configPath`, in the order it reads them: the file itself, then
    /// `<configPath>.d/*.yaml|*.yml` (case-insensitive suffix) sorted by name.
    public static func dropInOrder(_ names: [String]) -> [String] {
        names.filter { name in
            let lower = name.lowercased()
            return lower.hasSuffix(".yaml") || lower.hasSuffix(".yml")
        }.sorted()
    }

    /// `files` in K3s' reading order, each `(path, text)`; `commandLine` the k3s unit's ExecStart arguments.
    /// `environment`: the unit's environment files (`(path, text)`), whose `K3S_*` variables override the files.
    public func merge(files: [(path: String, text: String)], environment: [(path: String, text: String)] = [], commandLine: [String] = [],
                      commandLineSource: String = "ExecStart of k3s.service") throws(ConfigurationError) -> K3sEffectiveConfiguration {
        var effective = K3sEffectiveConfiguration()
        for file in files {
            let source = K3sConfigSource(kind: .file, name: file.path)
            for entry in try entries(of: file.text, path: file.path) {
                let values = entry.values.map { K3sConfigValue(value: $0.value, source: source, line: $0.line) }
                effective.apply(key: entry.key, values: values, isList: entry.isList, fromCommandLine: false)
            }
        }
        for file in environment {
            let source = K3sConfigSource(kind: .environment, name: file.path)
            for variable in try K3sEnvironment.parse(file.text, file: file.path) {
                guard let flag = K3sEnvironment.flags[variable.name] else { continue }
                effective.apply(key: flag, values: [K3sConfigValue(value: variable.value, source: source, line: variable.line)],
                                isList: false, fromCommandLine: true)
            }
        }
        let source = K3sConfigSource(kind: .commandLine, name: commandLineSource)
        var flags: [(key: String, values: [K3sConfigValue])] = []
        for flag in K3sCommandLine.flags(commandLine) {
            let value = K3sConfigValue(value: flag.value, source: source, line: nil)
            if let index = flags.firstIndex(where: { $0.key == flag.name }) {
                flags[index].values.append(value)  // a repeated flag builds a list
            } else {
                flags.append((flag.name, [value]))
            }
        }
        for flag in flags {
            effective.apply(key: flag.key, values: flag.values, isList: flag.values.count > 1, fromCommandLine: true)
        }
        return effective
    }

    struct Entry {
        var key: String
        var values: [(value: String, line: Int?)]
        var isList: Bool
    }

    func entries(of text: String, path: String) throws(ConfigurationError) -> [Entry] {
        guard let node = try YAMLLoader(file: path, limits: .k3sConfiguration).compose(text) else { return [] }
        guard let mapping = node.mapping else {
            throw ConfigurationError(file: path, line: node.mark?.line, message: "expected a mapping of K3s settings at the top level")
        }
        var entries: [Entry] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string, !key.isEmpty else {
                throw ConfigurationError(file: path, line: keyNode.mark?.line, message: "keys must be plain strings")
            }
            if let scalar = value.scalar {
                entries.append(Entry(key: key, values: [(scalar.string, value.mark?.line)], isList: false))
            } else if let sequence = value.sequence {
                var values: [(String, Int?)] = []
                for element in sequence {
                    guard let scalar = element.scalar else {
                        throw ConfigurationError(file: path, line: element.mark?.line, key: key, message: "list elements must be strings")
                    }
                    values.append((scalar.string, element.mark?.line))
                }
                entries.append(Entry(key: key, values: values, isList: true))
            } else {
                throw ConfigurationError(file: path, line: value.mark?.line, key: key, message: "expected a string or a list of strings")
            }
        }
        return entries
    }
}

/// K3s flags on a command line (`k3s server --kube-apiserver-arg=a=b --disable traefik`).
public enum K3sCommandLine {
    public struct Flag: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    /// Flags after the program and subcommand. `--name=value` and `--name value` take a value; a flag followed
    /// by another flag (or nothing) is a boolean `true`.
    public static func flags(_ arguments: [String]) -> [Flag] {
        var flags: [Flag] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("-"), argument != "-", argument != "--" else { continue }
            let name = String(argument.drop(while: { $0 == "-" }))
            if let equals = name.firstIndex(of: "=") {
                flags.append(Flag(name: String(name[..<equals]), value: String(name[name.index(after: equals)...])))
            } else if index < arguments.count, !arguments[index].hasPrefix("-") {
                flags.append(Flag(name: name, value: arguments[index]))
                index += 1
            } else {
                flags.append(Flag(name: name, value: "true"))
            }
        }
        return flags
    }
}
