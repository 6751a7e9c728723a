import Logging

/// Maps swift-log records to journald fields. Pure, so the mapping is testable without a journal.
public enum JournalFields {
    /// journald accepts field names of A–Z, 0–9 and `_`, not starting with `_` or a digit, at most 64 bytes;
    /// anything else is silently dropped. Metadata keys become `AIOS_<KEY>`: `peer.uid` → `AIOS_PEER_UID`.
    public static func fieldName(forMetadataKey key: String) -> String {
        var name = "AIOS_"
        var lastWasUnderscore = true
        for scalar in key.unicodeScalars {
            let character: Character
            switch scalar {
            case "a"..."z": character = Character(String(scalar).uppercased())
            case "A"..."Z", "0"..."9": character = Character(scalar)
            default: character = "_"
            }
            if character == "_" {
                if lastWasUnderscore { continue }
                lastWasUnderscore = true
            } else {
                lastWasUnderscore = false
            }
            name.append(character)
        }
        while name.hasSuffix("_") && name.count > 5 { name.removeLast() }
        if name == "AIOS_" { name = "AIOS_FIELD" }
        return String(name.prefix(64))
    }

    /// syslog priority: 0 emerg … 7 debug.
    public static func priority(for level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// The MESSAGE of an entry about one secret's failure names the secret and the reason, so `journalctl -u aiosd`
    /// is useful without `-o verbose`: "Secret sync failed: db: VaultUnreachable: ...". The code's message stays
    /// constant (also kept as `AIOS_EVENT`); the rest comes from the entry's `secret`, `error.code` and `error`
    /// fields, which carry names and codes, never a value.
    public static func summary(message: String, metadata: Logger.Metadata) -> String {
        guard let secret = metadata["secret"].map(flatten), let error = metadata["error"].map(flatten) else { return message }
        let code = metadata["error.code"].map(flatten).map { "\($0): " } ?? ""
        return "\(message): \(secret): \(code)\(error)"
    }

    /// All fields of one entry, in order. Values may contain newlines; the native protocol carries them.
    public static func fields(
        message: String, level: Logger.Level, metadata: Logger.Metadata, identifier: String,
        file: String, function: String, line: UInt
    ) -> [(String, String)] {
        let summary = summary(message: message, metadata: metadata)
        var fields: [(String, String)] = [
            ("MESSAGE", summary),
            ("PRIORITY", String(priority(for: level))),
            ("SYSLOG_IDENTIFIER", identifier),
            ("CODE_FILE", file),
            ("CODE_LINE", String(line)),
            ("CODE_FUNC", function),
        ]
        if summary != message { fields.append(("AIOS_EVENT", message)) }
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            fields.append((fieldName(forMetadataKey: key), flatten(value)))
        }
        return fields
    }

    static func flatten(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array, .dictionary: value.description
        }
    }
}
