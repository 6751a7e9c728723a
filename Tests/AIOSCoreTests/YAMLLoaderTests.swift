@testable import AIOSCore
import Foundation
import Testing

/// Every YAML input is bounded before it is composed: size, depth, and the nodes it expands to through aliases.
@Suite struct YAMLLoaderTests {
    /// The classic "billion laughs": ten levels of nine aliases each, under 400 bytes, 10^9 nodes expanded.
    static func laughs(levels: Int = 10, marker: String = "lol-secret-marker") -> String {
        var text = "l0: &l0 [\(Array(repeating: "\"\(marker)\"", count: 9).joined(separator: ","))]\n"
        for level in 1..<levels {
            text += "l\(level): &l\(level) [\(Array(repeating: "*l\(level - 1)", count: 9).joined(separator: ","))]\n"
        }
        return text
    }

    @Test func anAliasBombIsRefusedByItsExpandedSizeNotComposed() {
        let loader = YAMLLoader(file: "/etc/aios/aiosd.yaml", limits: .configuration)
        #expect(throws: ConfigurationError.self) { try loader.compose(Self.laughs()) }
        do {
            _ = try loader.compose(Self.laughs())
        } catch {
            #expect(error.file == "/etc/aios/aiosd.yaml")
            #expect(error.message == "expands to more than 100000 nodes (aliases included)")
            #expect(error.line == 6, "refused at the first alias list that crosses the cap (9^6 > 100000)")
            #expect(!error.description.contains("lol-secret-marker"), "the document's text never reaches the error")
        }
    }

    @Test func anAliasBombInKeyPositionIsRefusedBeforeAnyKeyIsCompared() {
        // Duplicate-key checks compare keys: an aliased bomb as a key must be refused by its size first.
        let text = Self.laughs() + "? *l9\n: x\n"
        #expect(throws: ConfigurationError.self) {
            try YAMLLoader(file: "config.yaml", limits: .k3sConfiguration).compose(text)
        }
    }

    @Test func boundedAnchorsStillWorkWhereTheyAreAccepted() throws {
        // K3s accepts anchors in its config files, so aiosd reads them.
        let text = "tls-san: &sans [a.example, b.example]\nnode-label: *sans\n"
        let node = try #require(try YAMLLoader(file: "config.yaml", limits: .k3sConfiguration).compose(text))
        #expect(node["node-label"]?.sequence?.compactMap(\.string) == ["a.example", "b.example"])
    }

    @Test func deepNestingIsRefused() {
        let text = "a: " + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "\n"
        do {
            _ = try YAMLLoader(file: "f.yaml", limits: .configuration).compose(text)
            Issue.record("nesting of 41 levels accepted")
        } catch {
            #expect(error.message == "nested deeper than 32 levels")
        }
        #expect(throws: Never.self) {
            try YAMLLoader(file: "f.yaml", limits: .configuration).compose("a: [[[[x]]]]\n")
        }
    }

    @Test func anOversizedDocumentIsRefusedBeforeParsing() {
        let text = "a: \"" + String(repeating: "x", count: 300 << 10) + "\"\n"
        do {
            _ = try YAMLLoader(file: "objects", limits: .providerClassObjects).compose(text)
            Issue.record("oversized document accepted")
        } catch {
            #expect(error.message.hasPrefix("is 307206 bytes; at most 262144 are accepted"))
        }
    }

    @Test func aSyntaxErrorNamesFileLineAndColumnButNeverTheLine() {
        // A root-only file: the value on the broken line may be a credential.
        let text = "token: K10abc::server:hunter2\nagent-token: \"unterminated hunter2\n"
        do {
            _ = try YAMLLoader(file: "/etc/rancher/k3s/config.yaml", limits: .k3sConfiguration).compose(text)
            Issue.record("broken YAML accepted")
        } catch {
            #expect(error.line == 3 || error.line == 2)
            #expect(error.column != nil)
            #expect(!error.description.contains("hunter2"), "\(error.description)")
        }
        do {
            _ = try YAMLLoader(file: "k3s.yaml", limits: .kubeconfig).compose("users:\n- name: x\n  token: [hunter2\n")
            Issue.record("broken YAML accepted")
        } catch {
            #expect(!error.description.contains("hunter2"), "\(error.description)")
        }
    }

    @Test func nullIsAbsentButAQuotedNullIsAString() throws {
        // YAML's null spellings, unquoted, are "not set"; quoted, they are text.
        for value in ["~", "null", "Null", "NULL", "", "!!null x"] {
            var root = try YAMLReader(file: "aiosd.yaml").rootMapping(of: "logLevel: \(value)\n")
            #expect(try root.string("logLevel") == nil, "\(value)")
        }
        var quoted = try YAMLReader(file: "aiosd.yaml").rootMapping(of: "logLevel: \"null\"\nother: 'NULL'\n")
        #expect(try quoted.string("logLevel") == "null")
        #expect(try quoted.string("other") == "NULL")
    }

    @Test func scalarsKeepTheirTextAndPositions() throws {
        let text = "a: 'x: y'\nb: |\n  line one\n  line two\nc:\n  - 1\n  - {d: e}\n"
        let root = try #require(try YAMLLoader(file: "f.yaml", limits: .configuration).compose(text))
        #expect(root["a"]?.string == "x: y")
        #expect(root["b"]?.string == "line one\nline two\n")
        #expect(root["c"]?.sequence?.first?.string == "1")
        #expect(root["c"]?.sequence?.last?["d"]?.string == "e")
        #expect(root["c"]?.sequence?.last?.mark == YAMLNode.Mark(line: 7, column: 5))
        #expect(root.mapping?.pairs.map { $0.key.string } == ["a", "b", "c"], "document order")
    }

    @Test func duplicateKeysAndUndefinedAliasesAndSecondDocumentsAreErrors() {
        func failure(_ text: String) -> ConfigurationError? {
            do { _ = try YAMLLoader(file: "f.yaml", limits: .configuration).compose(text); return nil } catch { return error }
        }
        let duplicate = failure("a:\n  b: 1\n  c: 2\n  b: 3\n")
        #expect(duplicate?.message == "duplicate key")
        #expect(duplicate?.line == 4, "the repeated key, not the mapping")
        #expect(duplicate?.key == "b")
        let alias = failure("a: *nowhere\n")
        #expect(alias?.message == "not valid YAML: found undefined alias")
        #expect(alias?.line == 1 && alias?.column == 4)
        let second = failure("a: 1\n---\nb: 2\n")
        #expect(second?.message.hasPrefix("not valid YAML: expected a single document") == true)
        #expect(second?.line == 2)
        #expect(failure("") == nil)
        #expect(failure("# only a comment\n") == nil)
    }

    @Test func theK3sMergerAndKubeconfigAndReaderGoThroughTheLoader() {
        #expect(throws: ConfigurationError.self) { try K3sConfigMerger().merge(files: [("config.yaml", Self.laughs())]) }
        #expect(throws: ConfigurationError.self) { try Kubeconfig.parse(Self.laughs(), file: "k3s.yaml") }
        #expect(throws: ConfigurationError.self) { try YAMLReader(file: "aiosd.yaml").rootMapping(of: Self.laughs()) }
    }
}

/// A SecretProviderClass' objects are written by any namespace user: no anchors at all, parsed once per version.
@Suite struct ProviderClassObjectsTests {
    static func providerClass(objects: String, resourceVersion: String = "7") -> ClusterObjects.ProviderClass {
        let parameters = try! JSONSerialization.data(withJSONObject: ["keyvaultName": "kv", "objects": objects])
        return ClusterObjects.ProviderClass(json: Data("""
            {"metadata":{"name":"spc","namespace":"team-a","resourceVersion":"\(resourceVersion)"},
             "spec":{"provider":"azure","parameters":\(String(decoding: parameters, as: UTF8.self))}}
            """.utf8))!
    }

    /// The 305-byte shape the security review used: aliases inside `objects`.
    static let bomb = YAMLLoaderTests.laughs(levels: 9) + "array:\n  - *l8\n"

    @Test func anchorsInObjectsAreRefusedOutrightWithTheClassNamed() {
        let cache = ProviderClassObjects()
        do {
            _ = try cache.objects(of: Self.providerClass(objects: Self.bomb))
            Issue.record("bomb accepted")
        } catch {
            #expect(error.code == "SecretProviderClassMisconfigured")
            #expect(error.message == "SecretProviderClass team-a/spc: parameters.objects:1:5: anchors and aliases are not accepted here")
            #expect(!error.message.contains("lol"))
        }
        // Also inside one object's own YAML string.
        let nested = "array:\n  - |\n    objectName: &n a\n    objectAlias: *n\n"
        #expect(throws: SyncIssue.self) { try cache.objects(of: Self.providerClass(objects: nested)) }
    }

    @Test func objectsAreParsedOncePerResourceVersion() throws {
        let cache = ProviderClassObjects()
        let objects = "array:\n  - |\n    objectName: db-password\n    objectType: secret\n    objectVersionHistory: 2\n"
        for _ in 0..<5 {
            let parsed = try cache.objects(of: Self.providerClass(objects: objects))
            #expect(parsed.map(\.objectName) == ["db-password"])
            #expect(parsed.first?.objectVersionHistory == 2)
        }
        for _ in 0..<5 {
            #expect(throws: SyncIssue.self) { try cache.objects(of: Self.providerClass(objects: Self.bomb, resourceVersion: "8")) }
        }
        #expect(cache.parses.load(ordering: .relaxed) == 2, "one parse per resourceVersion, refusals included")
        _ = try cache.objects(of: Self.providerClass(objects: objects, resourceVersion: "9"))
        #expect(cache.parses.load(ordering: .relaxed) == 3)
    }
}
