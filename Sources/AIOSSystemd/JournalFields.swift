import Logging

/// Maps swift-log records to journald fields. Pure, so the mapping is testable without a journal.
public enum JournalFields {
    /// journald accepts field names of A–Z, 0–9 and `_`, not starting with `_` or a digit, at most 64 bytes;
    /// anything else is silently dropped. Metadata keys become `AIOS_<KEY>`: `peer.uid` → `AIOS_PEER_UID`.
    public static func fieldName(forMetadataKey key: String) -> String {
        // ASCII arithmetic on bytes: this runs for every field of every journal entry (uppercasing a String per
        // character was most of the cost of logging a synced Secret).
        var name = Array("AIOS_".utf8)
        var lastWasUnderscore = true
        for scalar in key.unicodeScalars {
            let byte: UInt8 = switch scalar.value {
            case 0x61...0x7A: UInt8(scalar.value) - 0x20
            case 0x41...0x5A, 0x30...0x39: UInt8(scalar.value)
            default: UInt8(ascii: "_")
            }
            if byte == UInt8(ascii: "_") {
                if lastWasUnderscore { continue }
                lastWasUnderscore = true
            } else {
                lastWasUnderscore = false
            }
            name.append(byte)
        }
        while name.count > 5 && name.last == UInt8(ascii: "_") { name.removeLast() }
        if name.count == 5 { return "AIOS_FIELD" }
        return String(decoding: name.prefix(64), as: UTF8.self)
    }

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
