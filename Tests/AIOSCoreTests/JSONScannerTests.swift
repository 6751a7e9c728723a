@testable import AIOSCore
import Foundation
import Testing

@Suite struct JSONScannerTests {
    /// Random documents with decoys (the same key names elsewhere, brackets and quotes inside strings, escapes):
    /// the scanner finds what JSONDecoder finds at the path, and nothing where JSONDecoder finds nothing.
    @Test func findsWhatJSONDecoderFinds() throws {
        struct Object: Decodable { struct Metadata: Decodable { var resourceVersion: String? }; var metadata: Metadata? }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<400 {
            var top: [String: JSONValue] = [:]
            for index in 0..<Int.random(in: 0...6) { top["k\(index)"] = Self.randomValue(depth: 3, using: &generator) }
            switch Int.random(in: 0..<4) {
            case 0: break  // no metadata at all
            case 1: top["metadata"] = .object(["name": Self.randomValue(depth: 2, using: &generator)])  // metadata without it
            case 2: top["metadata"] = .object(["resourceVersion": .integer(42)])  // not a string
            default:
                var metadata: [String: JSONValue] = ["resourceVersion": .string(Self.randomString())]
                for index in 0..<Int.random(in: 0...4) { metadata["m\(index)"] = Self.randomValue(depth: 2, using: &generator) }
                top["metadata"] = .object(metadata)
            }
            let bytes = Array(try JSONValue.object(top).encoded())
            let expected = (try? JSONDecoder().decode(Object.self, from: Data(bytes)))?.metadata?.resourceVersion
            #expect(JSONScanner.string(at: ["metadata", "resourceVersion"], in: bytes) == expected, "\(String(decoding: bytes, as: UTF8.self))")
        }
    }

    @Test func readsAWrittenSecretsResourceVersion() {
        let response = #"""
        {"kind":"Secret","apiVersion":"v1","metadata":{"name":"db","namespace":"default","uid":"u",
         "annotations":{"note":"{\"metadata\":{\"resourceVersion\":\"decoy\"}} ] }"},
         "managedFields":[{"manager":"aiosd","fieldsV1":{"f:data":{"f:a":{}}}}],"resourceVersion" : "1234"},
         "data":{"a":"YQ=="},"type":"Opaque"}
        """#
        #expect(JSONScanner.string(at: ["metadata", "resourceVersion"], in: Array(response.utf8)) == "1234")
        #expect(JSONScanner.string(at: ["metadata", "name"], in: Array(#"{"metadata":{"name":"a\u00e9\n"}}"#.utf8)) == "aé\n")
    }

    @Test func malformedOrMissingIsNil() {
        for text in ["", "[]", "\"x\"", "{", #"{"metadata":"#, #"{"metadata":{"resourceVersion":"12"#, #"{"metadata" {}}"#,
                     #"{"a":tru"#, #"{"a":[1,2,{"metadata":{"resourceVersion":"1"}}]}"#, #"{"metadata":{}}"#] {
            #expect(JSONScanner.string(at: ["metadata", "resourceVersion"], in: Array(text.utf8)) == nil, "\(text)")
        }
        #expect(KubernetesClient.resourceVersion(in: .init(status: 200, body: Array("not json".utf8))) == "")
    }

    private static func randomString() -> String {
        let alphabet = Array("ab09\"\\/{}[]:, \n\té日🔑")
        return String((0..<Int.random(in: 0...10)).map { _ in alphabet.randomElement()! })
    }

    private static func randomValue(depth: Int, using generator: inout SystemRandomNumberGenerator) -> JSONValue {
        switch Int.random(in: 0..<(depth > 0 ? 7 : 5), using: &generator) {
        case 0: return .string(randomString())
        case 1: return .integer(Int64.random(in: -1000...1000, using: &generator))
        case 2: return .bool(Bool.random(using: &generator))
        case 3: return .null
        case 4: return .string("resourceVersion")
        case 5:
            var object: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...3, using: &generator) {
                object[["metadata", "resourceVersion", randomString()].randomElement()!] = randomValue(depth: depth - 1, using: &generator)
            }
            return .object(object)
        default:
            return .array((0..<Int.random(in: 0...3, using: &generator)).map { _ in randomValue(depth: depth - 1, using: &generator) })
        }
    }
}
