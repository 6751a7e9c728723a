@testable import AIOSCore
import Foundation
import Testing

@Suite struct JSONWriterTests {
    /// Every string survives a round trip through JSONDecoder: quotes, backslashes, every control character,
    /// multi-byte UTF-8, and random mixes of them.
    @Test func everyStringDecodesBackToItself() throws {
        var samples = ["", "plain", "quote \" and backslash \\", "/slash", "é ü 日本 🔑", "line\nbreak\r\ttab"]
        samples += (0..<0x20).map { "control \(String(UnicodeScalar(UInt8($0))))." }
        let alphabet = Array("a\"\\/\n\r\t\u{0}\u{1}\u{1f}\u{7f}é日🔑 {}[]:,")
        for _ in 0..<500 { samples.append(String((0..<Int.random(in: 0...24)).map { _ in alphabet.randomElement()! })) }
        for sample in samples {
            var json = JSONWriter()
            json.beginArray()
            json.string(sample)
            json.endArray()
            #expect(try JSONDecoder().decode([String].self, from: Data(json.bytes)) == [sample])
        }
    }

    @Test func nestedMembersAreSeparatedAsJSON() throws {
        var json = JSONWriter()
        json.beginObject()
        json.member("a", "1")
        json.member("empty", [:])
        json.key("list")
        json.beginArray()
        json.beginObject()
        json.endObject()
        json.string("x")
        json.beginArray()
        json.endArray()
        json.endArray()
        json.member("map", ["k1": "v1", "k2": "v2"])
        json.endObject()
        let parsed = try #require(JSONValue(parsing: json.bytes))
        #expect(parsed == ["a": "1", "empty": [:], "list": [[:], "x", []], "map": ["k1": "v1", "k2": "v2"]])
    }

    /// The Secret body written directly is the document JSONEncoder wrote before, value for value.
    @Test func theSecretBodyIsTheEncodedSecret() throws {
        let owner = KubernetesClient.OwnerReference(apiVersion: "secret-sync.x-k8s.io/v1alpha1", kind: "SecretSync", name: "s\"1", uid: "u-1")
        let data: [String: [UInt8]] = ["tls.crt": Array("-----BEGIN\n".utf8), "bin": [0, 255, 10, 34], "empty": []]
        for owner in [owner, nil] {
            let body = KubernetesClient.secretBody(namespace: "ns", name: "n", type: "kubernetes.io/tls",
                                                   labels: ["app.kubernetes.io/managed-by": "aiosd"],
                                                   annotations: ["aios.microsoft.com/content-hash": "hmac-sha256:ab\\\n"],
                                                   owner: owner, data: data)
            var metadata: [String: JSONValue] = [
                "name": "n", "namespace": "ns", "labels": ["app.kubernetes.io/managed-by": "aiosd"],
                "annotations": ["aios.microsoft.com/content-hash": "hmac-sha256:ab\\\n"],
            ]
            if let owner {
                metadata["ownerReferences"] = [["apiVersion": .string(owner.apiVersion), "kind": .string(owner.kind),
                                                "name": .string(owner.name), "uid": .string(owner.uid)]]
            }
            let expected: JSONValue = [
                "apiVersion": "v1", "kind": "Secret", "metadata": .object(metadata), "type": "kubernetes.io/tls",
                "data": .object(data.mapValues { .string(Data($0).base64EncodedString()) }),
            ]
            #expect(JSONValue(parsing: body) == expected)
        }
    }
}
