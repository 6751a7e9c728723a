/// The name rules of Kubernetes and Key Vault, checked before anything is written or requested.
public enum KubernetesNames {
    /// RFC 1123 label (namespaces): lowercase alphanumerics and `-`, at most 63.
    public static func isLabel(_ text: String) -> Bool {
        text.utf8.count <= 63 && matchesDNSPart(text)
    }

    /// RFC 1123 subdomain (Secret and service account names): labels joined by `.`, at most 253.
    public static func isSubdomain(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { $0.utf8.count <= 63 && matchesDNSPart(String($0)) }
    }

    /// A Secret data key: `[-._a-zA-Z0-9]+`, at most 253, not `.` or `..`.
    public static func isSecretKey(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253, text != ".", text != ".." else { return false }
        return text.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") }
    }

    /// A label or annotation key: optional DNS-subdomain prefix and `/`, then a name of at most 63
    /// (`[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`).
    public static func isQualifiedKey(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.last, !name.isEmpty, name.utf8.count <= 63 else { return false }
        if parts.count == 2 && !isSubdomain(String(parts[0])) { return false }
        let bytes = Array(name.utf8)
        guard isAlphanumeric(bytes.first!), isAlphanumeric(bytes.last!) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    /// A label value: empty, or at most 63 of `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`.
    public static func isLabelValue(_ text: String) -> Bool {
        if text.isEmpty { return true }
        let bytes = Array(text.utf8)
        guard bytes.count <= 63, isAlphanumeric(bytes.first!), isAlphanumeric(bytes.last!) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    /// A Key Vault name: 3-24 of `[a-zA-Z0-9-]`, starting with a letter, not ending with `-`, no `--`.
    public static func isVaultName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (3...24).contains(bytes.count), isLetter(bytes.first!), bytes.last! != UInt8(ascii: "-"), !text.contains("--") else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    /// A Key Vault object name: 1-127 of `[0-9a-zA-Z-]`.
    public static func isVaultObjectName(_ text: String) -> Bool {
        (1...127).contains(text.utf8.count) && text.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    /// A Key Vault object version: 32 hexadecimal characters.
    public static func isVaultVersion(_ text: String) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { isHexDigit($0) }
    }

    /// A GUID as Entra writes tenant and client ids.
    public static func isGUID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.map(\.count) == [8, 4, 4, 4, 12] else { return false }
        return groups.allSatisfy { $0.utf8.allSatisfy(isHexDigit) }
    }

    private static func matchesDNSPart(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        guard isLowerAlphanumeric(first), isLowerAlphanumeric(last) else { return false }
        return bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLetter(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }
}
