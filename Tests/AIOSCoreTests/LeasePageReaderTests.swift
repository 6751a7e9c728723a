@testable import AIOSCore
import Foundation
import Testing

/// A Lease list page is read from a JSONTree that keeps only what a Lease's fields need (`LeaseObject.page`); for
/// every page, well formed or not, it must give what decoding the page with JSONDecoder gives.
@Suite struct LeasePageReaderTests {
    /// What `listPages` decodes a page as, without the reader.
    struct DecodedPage: Decodable {
        struct Metadata: Decodable { var `continue`: String? }
        var metadata: Metadata?
        var items: [KubernetesClient.LeaseObject]?
    }

    struct Result: Equatable {
        var items: [String?: LeaseRecord]
        var names: [String?]
        var next: String?
    }

    static func decoded(_ bytes: [UInt8]) -> Result? {
        guard let page = try? JSONDecoder().decode(DecodedPage.self, from: Data(bytes)) else { return nil }
        let items = page.items ?? []
        return Result(items: Dictionary(items.map { ($0.name, $0.record) }, uniquingKeysWith: { first, _ in first }),
                      names: items.map(\.name), next: page.metadata?.continue)
    }

    static func read(_ bytes: [UInt8]) -> Result? {
        guard let page = KubernetesClient.LeaseObject.page(bytes) else { return nil }
        return Result(items: Dictionary(page.items.map { ($0.name, $0.record) }, uniquingKeysWith: { first, _ in first }),
                      names: page.items.map(\.name), next: page.next)
    }

    static let strings = ["", "aiosd", "node-1", "a/b", "quote \\\" and \\\\", "line\\nbreak", "\\u00e9\\u65e5 \\ud83d\\udd11", "é 日本 🔑",
                          "2026-11-30T10:00:00.123456Z", "2026-11-30T10:00:00Z", "not a time"]
    static let numbers = ["0", "15", "-3", "3.0", "1.5", "1e3", "99999999999999999999", "9999999999999999.999", "1.5e1", "150e-1",
                          "1.25e1", "-0.0", "1e-1", "123456789012345678901e-3", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
                          "1e18", "1e19", "0e5"]

    static func junk(depth: Int = 0) -> String {
        switch Int.random(in: 0..<(depth > 2 ? 5 : 7)) {
        case 0: "\"\(strings.randomElement()!)\""
        case 1: numbers.randomElement()!
        case 2: ["true", "false"].randomElement()!
        case 3: "null"
        case 4: "\"x\""
        case 5: "[" + (0..<Int.random(in: 0...3)).map { _ in junk(depth: depth + 1) }.joined(separator: ",") + "]"
        default: "{" + (0..<Int.random(in: 0...3)).map { "\"k\($0)\": \(junk(depth: depth + 1))" }.joined(separator: ", ") + "}"
        }
    }

    /// `good` most of the time; sometimes absent, null, or anything.
    static func field(_ key: String, _ good: String, into members: inout [String]) {
        switch Int.random(in: 0..<12) {
        case 0: break
        case 1: members.append("\"\(key)\": null")
        case 2: members.append("\"\(key)\": \(junk())")
        default: members.append("\"\(key)\": \(good)")
        }
    }

    static func stringMap() -> String {
        "{" + (0..<Int.random(in: 0...3)).map { "\"k\($0)/x\": " + (Int.random(in: 0..<10) == 0 ? junk() : "\"\(strings.randomElement()!)\"") }
            .joined(separator: ", ") + "}"
    }

    static func lease(_ index: Int) -> String {
        var metadata: [String] = []
        field("name", "\"aios-definition-\(index)\"", into: &metadata)
        field("namespace", "\"kube-system\"", into: &metadata)
        field("resourceVersion", "\"\(Int.random(in: 1...99999))\"", into: &metadata)
        field("labels", stringMap(), into: &metadata)
        field("annotations", stringMap(), into: &metadata)
        field("managedFields", #"[{"manager": "aiosd", "operation": "Update", "time": "2026-11-30T10:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}, "f:spec": {"f:holderIdentity": {}}}}]"#, into: &metadata)
        var spec: [String] = []
        field("holderIdentity", "\"\(strings.randomElement()!)\"", into: &spec)
        field("leaseDurationSeconds", numbers.randomElement()!, into: &spec)
        field("acquireTime", "\"\(strings.randomElement()!)\"", into: &spec)
        field("renewTime", "\"2026-11-30T10:00:0\(Int.random(in: 0...9)).\(Int.random(in: 100000...999999))Z\"", into: &spec)
        field("leaseTransitions", numbers.randomElement()!, into: &spec)
        var members = [#""apiVersion": "coordination.k8s.io/v1""#, #""kind": "Lease""#]
        field("metadata", "{" + metadata.shuffled().joined(separator: ", ") + "}", into: &members)
        field("spec", "{" + spec.shuffled().joined(separator: ", ") + "}", into: &members)
        if Int.random(in: 0..<40) == 0 { return junk() }  // an item that is no object
        return "{" + members.shuffled().joined(separator: ", ") + "}"
    }

    static func page() -> String {
        var metadata: [String] = [#""resourceVersion": "123""#]
        field("continue", "\"\(["", "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ", "next+page/1"].randomElement()!)\"", into: &metadata)
        var members = [#""kind": "LeaseList""#, #""apiVersion": "coordination.k8s.io/v1""#]
        field("metadata", "{" + metadata.joined(separator: ", ") + "}", into: &members)
        field("items", "[" + (0..<Int.random(in: 0...6)).map(lease).joined(separator: ",\n") + "]", into: &members)
        return "{" + members.shuffled().joined(separator: ", ") + "}"
    }

    @Test func everyPageReadsAsJSONDecoderReadsIt() {
        let accepted = JSONDifferential.acceptedWell(2000, Self.page, decoded: Self.decoded, read: Self.read)
        #expect(accepted > 800, "the pages exercise the accepted path: \(accepted)")
    }

    @Test func everyBrokenPageIsRefusedAsJSONDecoderRefusesIt() {
        let refused = JSONDifferential.refusedBroken(3000, Self.page, decoded: Self.decoded, read: Self.read)
        #expect(refused > 600, "most mutations break the page: \(refused)")
    }
}
