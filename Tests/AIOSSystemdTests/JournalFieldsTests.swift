import AIOSSystemd
import Logging
import Testing

/// journald drops fields whose names break its rules, so the mapping is the contract.
@Suite struct JournalFieldsTests {
    @Test(arguments: [
        ("peer.uid", "AIOS_PEER_UID"),
        ("config.path", "AIOS_CONFIG_PATH"),
        ("request-endpoint", "AIOS_REQUEST_ENDPOINT"),
        ("job.id", "AIOS_JOB_ID"),
        ("__weird..key__", "AIOS_WEIRD_KEY"),
        ("9lives", "AIOS_9LIVES"),
        ("ümlaut", "AIOS_MLAUT"),
        ("", "AIOS_FIELD"),
    ])
    func metadataKeyToFieldName(_ key: String, _ expected: String) {
        #expect(JournalFields.fieldName(forMetadataKey: key) == expected)
    }

    @Test func namesAreValidJournalFieldNames() {
        for key in ["a.b.c", String(repeating: "x", count: 200), "A B", "_leading", "trailing_"] {
            let name = JournalFields.fieldName(forMetadataKey: key)
            #expect(name.count <= 64)
            #expect(name.first != "_")
            #expect(name.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }, "\(name)")
        }
    }

    @Test func entryFields() {
        let fields = JournalFields.fields(
            message: "Configuration reloaded", level: .notice, metadata: ["config.path": "/etc/aios/aiosd.yaml"],
            identifier: "aiosd", file: "AIOSDaemon/Config.swift", function: "reload()", line: 42)
        let dictionary = Dictionary(uniqueKeysWithValues: fields.map { ($0.0, $0.1) })
        #expect(dictionary["MESSAGE"] == "Configuration reloaded")
        #expect(dictionary["PRIORITY"] == "5")
        #expect(dictionary["SYSLOG_IDENTIFIER"] == "aiosd")
        #expect(dictionary["CODE_FILE"] == "AIOSDaemon/Config.swift")
        #expect(dictionary["CODE_LINE"] == "42")
        #expect(dictionary["CODE_FUNC"] == "reload()")
        #expect(dictionary["AIOS_CONFIG_PATH"] == "/etc/aios/aiosd.yaml")
    }

    @Test func aSecretsFailureNamesTheSecretAndTheReasonInMessage() {
        let fields = JournalFields.fields(
            message: "Secret sync failed", level: .warning,
            metadata: ["secret": "db", "error.code": "VaultUnreachable", "error": "contoso-kv.vault.azure.net did not answer", "outcome": "failed"],
            identifier: "aiosd", file: "f", function: "g", line: 1)
        let dictionary = Dictionary(uniqueKeysWithValues: fields.map { ($0.0, $0.1) })
        #expect(dictionary["MESSAGE"] == "Secret sync failed: db: VaultUnreachable: contoso-kv.vault.azure.net did not answer")
        #expect(dictionary["AIOS_EVENT"] == "Secret sync failed", "the constant message stays searchable")
        #expect(dictionary["AIOS_SECRET"] == "db")
        #expect(dictionary["AIOS_ERROR_CODE"] == "VaultUnreachable")
        // Without a code (a definition refused), the error alone; without an error, the message as it is.
        #expect(JournalFields.summary(message: "SecretSync refused; left alone", metadata: ["secret": "ns/x", "error": "no data"])
            == "SecretSync refused; left alone: ns/x: no data")
        #expect(JournalFields.summary(message: "Secret synced", metadata: ["secret": "db", "outcome": "applied"]) == "Secret synced")
        let plain = JournalFields.fields(message: "Secret synced", level: .info, metadata: ["secret": "db"], identifier: "aiosd", file: "f", function: "g", line: 1)
        #expect(!plain.contains { $0.0 == "AIOS_EVENT" })
    }

    @Test func priorities() {
        let expected: [(Logger.Level, Int)] = [(.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2)]
        for (level, priority) in expected {
            #expect(JournalFields.priority(for: level) == priority)
        }
    }

    @Test func systemdDetection() {
        #expect(LogDestination.runsUnderSystemd(environment: ["JOURNAL_STREAM": "8:1234"]))
        #expect(LogDestination.runsUnderSystemd(environment: ["INVOCATION_ID": "abc"]))
        #expect(!LogDestination.runsUnderSystemd(environment: ["PATH": "/usr/bin"]))
    }
}
