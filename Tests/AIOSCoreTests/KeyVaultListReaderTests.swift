@testable import AIOSCore
import Foundation
import Testing

/// A page of Key Vault's secret list is read by hand (`KeyVaultWire.ListResult(json:)`); for every page, well formed
/// or not, it must give exactly what JSONDecoder gives: the same items and nextLink, or a refusal.
@Suite struct KeyVaultListReaderTests {
    static func decoded(_ bytes: [UInt8]) -> KeyVaultWire.ListResult? {
        try? JSONDecoder().decode(KeyVaultWire.ListResult.self, from: Data(bytes))
    }

    static func read(_ bytes: [UInt8]) -> KeyVaultWire.ListResult? { KeyVaultWire.ListResult(json: bytes) }

    typealias Documents = KeyVaultBundleReaderTests

    /// A list item as Key Vault writes it (no value), often of the right types, sometimes not, sometimes null; now and
    /// then not an object at all.
    static func randomItem() -> String {
        switch Int.random(in: 0..<25) {
        case 0: return "null"
        case 1: return Documents.randomValue()
        default:
            // A bundle without its value and kid is what a list item holds; their presence must not matter either.
            return Documents.randomBundle()
        }
    }

    static func page() -> String {
        var members: [String] = []
        switch Int.random(in: 0..<12) {
        case 0: break
        case 1: members.append(#""value": null"#)
        case 2: members.append("\"value\": \(Documents.randomValue())")
        default: members.append("\"value\": [" + (0..<Int.random(in: 0...4)).map { _ in randomItem() }.joined(separator: ",") + "]")
        }
        switch Int.random(in: 0..<8) {
        case 0: break
        case 1: members.append(#""nextLink": null"#)
        case 2: members.append("\"nextLink\": \(Documents.randomValue())")
        default: members.append(#""nextLink": "https://kv.vault.azure.net/secrets?api-version=7.4&$skiptoken=eyJ0b2tlbiI6IjEifQ%3D%3D""#)
        }
        if Bool.random() { members.append("\"unknown\": \(Documents.randomValue())") }
        return "{" + members.shuffled().joined(separator: ", ") + "}"
    }

    @Test func everyPageReadsAsJSONDecoderReadsIt() {
        let accepted = JSONDifferential.acceptedWell(3000, Self.page, decoded: Self.decoded, read: Self.read)
        #expect(accepted > 300, "the pages exercise the accepted path: \(accepted)")
    }

    @Test func everyBrokenPageIsRefusedAsJSONDecoderRefusesIt() {
        let refused = JSONDifferential.refusedBroken(4000, Self.page, decoded: Self.decoded, read: Self.read)
        #expect(refused > 800, "most mutations break the page: \(refused)")
    }

    /// The page Key Vault sends: every item's fields are read, nextLink kept verbatim.
    @Test func aKeyVaultPageGivesItsItemsAndNextLink() throws {
        let text = #"""
        {"value": [{"id": "https://kv.vault.azure.net/secrets/app-db", "attributes": {"enabled": true, "created": 1700000000,
          "updated": 1700000100, "recoveryLevel": "Recoverable+Purgeable"}, "tags": {"team": "edge"}, "contentType": "text/plain"},
          {"id": "https://kv.vault.azure.net/secrets/cert", "managed": true, "attributes": {"enabled": false, "updated": 1.7e9}}],
         "nextLink": "https://kv.vault.azure.net/secrets?api-version=7.4&$skiptoken=abc"}
        """#
        let page = try #require(Self.read(Array(text.utf8)))
        #expect(page == Self.decoded(Array(text.utf8)))
        let items = try #require(page.value)
        #expect(items.map(\.id) == ["https://kv.vault.azure.net/secrets/app-db", "https://kv.vault.azure.net/secrets/cert"])
        #expect(items[0].attributes?.updated == 1700000100 && items[0].tags == ["team": "edge"] && items[0].contentType == "text/plain")
        #expect(items[1].managed == true && items[1].attributes?.enabled == false && items[1].attributes?.updated == 1_700_000_000)
        #expect(page.nextLink == "https://kv.vault.azure.net/secrets?api-version=7.4&$skiptoken=abc")
    }

    /// What refuses a page: an element that is not an object, a field of the wrong type, `value` not an array.
    @Test func aPageWithAWrongTypedPartIsRefused() {
        for text in [#"{"value": [null]}"#, #"{"value": [{"id": "a"}, 7]}"#, #"{"value": [{"id": 7}]}"#, #"{"value": {"id": "a"}}"#,
                     #"{"value": [{"tags": {"t": null}}]}"#, #"{"value": [{"attributes": {"enabled": "yes"}}]}"#, #"{"nextLink": 1}"#,
                     #"{"value": [{"managed": "true"}]}"#, #"[{"value": []}]"#] {
            #expect(Self.decoded(Array(text.utf8)) == nil, "JSONDecoder refuses \(text)")
            #expect(Self.read(Array(text.utf8)) == nil, "refused: \(text)")
        }
        for text in [#"{}"#, #"{"value": null, "nextLink": null}"#, #"{"value": []}"#] {
            #expect(Self.read(Array(text.utf8)) != nil && Self.read(Array(text.utf8)) == Self.decoded(Array(text.utf8)), "\(text)")
        }
    }
}
