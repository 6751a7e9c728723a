@testable import AIOSCore
import Foundation
import Testing

/// A Secret list page is read from a JSONTree that keeps only what a listed Secret's fields need
/// (`SecretObject.page`); for every page, well formed or not, it must give what decoding the page with JSONDecoder
/// gives.
@Suite struct SecretPageReaderTests {
    /// What `listPages` decodes a page as, without the reader.
    struct DecodedPage: Decodable {
        struct Metadata: Decodable { var `continue`: String? }
        var metadata: Metadata?
        var items: [KubernetesClient.SecretObject]?
    }

    struct Result: Equatable {
        var items: [KubernetesClient.SecretSummary]
        var next: String?
    }

    static func decoded(_ bytes: [UInt8]) -> Result? {
        guard let page = try? JSONDecoder().decode(DecodedPage.self, from: Data(bytes)) else { return nil }
        return Result(items: (page.items ?? []).map(\.summary), next: page.metadata?.continue)
    }

    static func read(_ bytes: [UInt8]) -> Result? {
        KubernetesClient.SecretObject.page(bytes).map { Result(items: $0.items.map(\.summary), next: $0.next) }
    }

    typealias Make = LeasePageReaderTests

    static func secret(_ index: Int) -> String {
        var metadata: [String] = []
        Make.field("name", "\"bench-\(index)\"", into: &metadata)
        Make.field("namespace", "\"\(["default", "kube-public", ""].randomElement()!)\"", into: &metadata)
        Make.field("uid", "\"\(UUID().uuidString.lowercased())\"", into: &metadata)
        Make.field("resourceVersion", "\"\(Int.random(in: 1...99999))\"", into: &metadata)
        Make.field("labels", Make.stringMap(), into: &metadata)
        Make.field("annotations", Make.stringMap(), into: &metadata)
        Make.field("creationTimestamp", "\"2026-11-30T10:00:00Z\"", into: &metadata)
        Make.field("managedFields", #"[{"manager": "aiosd", "operation": "Apply", "time": "2026-11-30T10:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:password": {}}, "f:metadata": {"f:labels": {"f:app.kubernetes.io/managed-by": {}}}}}]"#, into: &metadata)
        var members = [#""apiVersion": "v1""#]
        Make.field("kind", "\"\(["PartialObjectMetadata", "Secret"].randomElement()!)\"", into: &members)
        Make.field("type", "\"\(["Opaque", "kubernetes.io/tls"].randomElement()!)\"", into: &members)
        Make.field("data", #"{"password": "c2VjcmV0"}"#, into: &members)
        Make.field("metadata", "{" + metadata.shuffled().joined(separator: ", ") + "}", into: &members)
        if Int.random(in: 0..<40) == 0 { return Make.junk() }  // an item that is no object
        return "{" + members.shuffled().joined(separator: ", ") + "}"
    }

    static func page() -> String {
        var metadata: [String] = [#""resourceVersion": "123""#]
        Make.field("continue", "\"\(["", "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ", "next+page/1"].randomElement()!)\"", into: &metadata)
        var members = [#""kind": "\#(["PartialObjectMetadataList", "SecretList"].randomElement()!)""#, #""apiVersion": "v1""#]
        Make.field("metadata", "{" + metadata.joined(separator: ", ") + "}", into: &members)
        Make.field("items", "[" + (0..<Int.random(in: 0...6)).map(secret).joined(separator: ",\n") + "]", into: &members)
        return "{" + members.shuffled().joined(separator: ", ") + "}"
    }

    @Test func everyPageReadsAsJSONDecoderReadsIt() {
        let accepted = JSONDifferential.acceptedWell(2000, Self.page, decoded: Self.decoded, read: Self.read)
        #expect(accepted > 300, "the pages exercise the accepted path: \(accepted)")
    }

    @Test func everyBrokenPageIsRefusedAsJSONDecoderRefusesIt() {
        let refused = JSONDifferential.refusedBroken(3000, Self.page, decoded: Self.decoded, read: Self.read)
        #expect(refused > 600, "most mutations break the page: \(refused)")
    }

    /// What the API server sends for a metadata-only list: the summary the engine compares.
    @Test func aMetadataOnlyPageGivesEachSecretsSummary() throws {
        let bytes = Array(#"""
        {"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"9","continue":"abc"},
         "items":[{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"db","namespace":"apps",
           "uid":"u-1","resourceVersion":"7","labels":{"app.kubernetes.io/managed-by":"aiosd"},
           "annotations":{"aios.microsoft.com/content-hash":"h1"},
           "managedFields":[{"manager":"aiosd","operation":"Apply","fieldsV1":{"f:data":{"f:password":{}}}}]}}]}
        """#.utf8)
        let page = try #require(KubernetesClient.SecretObject.page(bytes))
        #expect(page.next == "abc")
        #expect(page.items.map(\.summary) == [KubernetesClient.SecretSummary(
            namespace: "apps", name: "db", uid: "u-1", resourceVersion: "7", type: nil,
            labels: ["app.kubernetes.io/managed-by": "aiosd"], annotations: ["aios.microsoft.com/content-hash": "h1"])])
    }
}
