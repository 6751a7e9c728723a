/// One `kube-apiserver-arg` element: `name=value` (K3s trims a leading `--`; a bare `name` means `name=true`).
public struct APIServerArgument: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    public init(parsing element: String) {
        let trimmed = element.hasPrefix("--") ? String(element.dropFirst(2)) : element
        if let equals = trimmed.firstIndex(of: "=") {
            name = String(trimmed[..<equals])
            value = String(trimmed[trimmed.index(after: equals)...])
        } else {
            name = trimmed
            value = "true"
        }
    }

    public var description: String { "\(name)=\(value)" }

    /// The flag without K3s' `+`/`-` merge markers (`service-account-issuer-=x` is still the issuer flag).
    public var flagName: String {
        name.hasSuffix("+") || name.hasSuffix("-") ? String(name.dropLast()) : name
    }

    public struct ValidationError: Error, CustomStringConvertible, Sendable, Equatable {
        public let description: String
    }

    /// Refuses names that are not kube-apiserver flags and values that would break the YAML file or the
    /// API server's command line: a refused edit changes nothing.
    public func validate() throws(ValidationError) {
        guard !name.isEmpty, name.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }),
              name.first != "-" else {
            throw ValidationError(description: "'\(name)' is not a flag name (lowercase letters, digits and dashes)")
        }
        // K3s reads a trailing `+`/`-` as "append to"/"remove from" the flag, not as part of its name.
        guard name.last != "-" else {
            throw ValidationError(description: "'\(name)' ends in '-', which K3s takes for a merge marker; name the flag without it")
        }
        guard KubeAPIServerFlags.known.contains(flagName) else {
            throw ValidationError(description: "'\(flagName)' is not a kube-apiserver flag known to aiosd; see kube-apiserver --help")
        }
        if let bad = value.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F || (0x80..<0xA0).contains($0.value)
            || $0.value == 0x2028 || $0.value == 0x2029 }) {
            throw ValidationError(description: "the value of \(name) contains U+\(String(bad.value, radix: 16, uppercase: true)); newlines (NEL, line and paragraph separators included), NUL and other control characters are not allowed")
        }
        guard value.utf8.count <= 4096 else {
            throw ValidationError(description: "the value of \(name) is longer than 4096 bytes")
        }
    }
}
