@testable import AIOSCore
import Foundation
import Testing

/// The secret bundle is read by hand (`JSONTree`, `KeyVaultWire.Bundle(json:)`); for every document, well formed
/// or not, it must give exactly what JSONDecoder gives: the same bundle, or a refusal.
@Suite struct KeyVaultBundleReaderTests {
    static func decoded(_ bytes: [UInt8]) -> KeyVaultWire.Bundle? {
        try? JSONDecoder().decode(KeyVaultWire.Bundle.self, from: Data(bytes))
    }

    static let strings = ["", "plain", "s3cr3t value", "quote \\\" backslash \\\\ slash \\/", "\\n\\r\\t\\b\\f", "\\u00e9\\u65e5 \\ud83d\\udd11",
                          "é 日本 🔑", "https://kv.vault.azure.net/secrets/app/0123abcd", "\\u0000nul", "-----BEGIN CERTIFICATE-----\\nMIIB\\n"]
    static let numbers = ["0", "-0", "1700000000", "1700000000.9", "-5", "1e3", "1E+3", "2.5e-3", "1e15", "99999999999999999999",
                          "9007199254740993", "1e400", "0.0", "12.000",
                          "9999999999999999.999", "1.5e1", "150e-1", "1.25e1", "0.5e1", "-0.0", "1e-1", "123456789012345678901e-3", "9223372036854775807",
                          "9223372036854775808", "-9223372036854775808", "1e18", "1e19", "0e5", "1E-0"]

    static func randomValue(depth: Int = 0) -> String {
        switch Int.random(in: 0..<(depth > 2 ? 5 : 7)) {
        case 0: "\"\(strings.randomElement()!)\""
        case 1: numbers.randomElement()!
        case 2: ["true", "false"].randomElement()!
        case 3: "null"
        case 4: "\"x\""
        case 5: "[" + (0..<Int.random(in: 0...3)).map { _ in randomValue(depth: depth + 1) }.joined(separator: ",") + "]"
        default: "{" + (0..<Int.random(in: 0...3)).map { "\"k\($0)\": \(randomValue(depth: depth + 1))" }.joined(separator: ", ") + "}"
        }
    }

    /// A bundle-like document: the fields Key Vault writes, often of the right type, sometimes not, sometimes null.
    static func randomBundle() -> String {
        var members: [String] = []
        func maybe(_ key: String, _ good: () -> String) {
            switch Int.random(in: 0..<10) {
            case 0: break
            case 1: members.append("\"\(key)\": null")
            case 2: members.append("\"\(key)\": \(randomValue())")
            default: members.append("\"\(key)\": \(good())")
            }
        }
        maybe("value") { "\"\(strings.randomElement()!)\"" }
        maybe("id") { "\"https://kv.vault.azure.net/secrets/app/\(Int.random(in: 0...99))\"" }
        maybe("contentType") { "\"application/x-pkcs12\"" }
        maybe("kid") { "\"https://kv.vault.azure.net/keys/app/1\"" }
        maybe("managed") { ["true", "false"].randomElement()! }
        maybe("tags") { "{" + (0..<Int.random(in: 0...3)).map { "\"t\($0)\": \"\(strings.randomElement()!)\"" }.joined(separator: ",") + "}" }
        maybe("attributes") {
            var attributes: [String] = []
            for key in ["enabled", "created", "updated", "exp", "nbf", "recoveryLevel"] where Bool.random() {
                attributes.append("\"\(key)\": \(key == "enabled" ? ["true", "false"].randomElement()! : Int.random(in: 0..<4) == 0 ? randomValue() : numbers.randomElement()!)")
            }
            return "{" + attributes.joined(separator: ",") + "}"
        }
        if Bool.random() { members.append("\"unknown\": \(randomValue())") }
        return " {" + members.shuffled().joined(separator: ",\n ") + "} "
    }

    @Test func everyBundleReadsAsJSONDecoderReadsIt() {
        var accepted = 0
        for _ in 0..<3000 {
            let bytes = Array(Self.randomBundle().utf8)
            let expected = Self.decoded(bytes)
            if expected != nil { accepted += 1 }
            #expect(KeyVaultWire.Bundle(json: bytes) == expected, "\(String(decoding: bytes, as: UTF8.self))")
        }
        #expect(accepted > 300, "the documents exercise the accepted path too: \(accepted)")
    }

    /// Broken documents: bytes deleted, inserted or replaced at random, and hand-picked malformations.
    @Test func everyMalformedDocumentIsRefusedAsJSONDecoderRefusesIt() {
        var refused = 0
        for _ in 0..<4000 {
            let bytes = JSONDifferential.broken(Self.randomBundle())
            let expected = Self.decoded(bytes)
            if expected == nil { refused += 1 }
            JSONDifferential.expectSame(KeyVaultWire.Bundle(json: bytes), as: expected, from: bytes)
        }
        #expect(refused > 1000, "most mutations break the document: \(refused)")
        let malformed = [#"{"value": "a"} x"#, #"{"value": 'a'}"#, #"{"value": "\x"}"#, #"{"value": "\ud800"}"#,
                         #"{"value": "\udc00\ud800"}"#, #"{"value": "\u12"}"#, #"{"attributes": {"exp": 01}}"#, #"{"attributes": {"exp": 1.}}"#,
                         #"{"attributes": {"exp": .5}}"#, #"{"attributes": {"exp": +1}}"#, #"{"attributes": {"exp": 1e}}"#, #"{"value": tru}"#,
                         #"[{"value": "a"}]"#, #""value""#, "", " ", #"{"value": "a""#, "{\"value\": \"a\tb\"}",
                         "{\"v\": " + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}"]
        for text in malformed {
            // Bad JSON in a field no one reads: JSONDecoder lets it pass, but not when every string is read.
            #expect(Self.decoded(Array(text.utf8)) == nil, "JSONDecoder refuses \(text)")
            #expect(KeyVaultWire.Bundle(json: Array(text.utf8)) == nil, "refused: \(text)")
        }
    }

    /// A trailing comma passes, as JSONDecoder lets it; a bad string in a field no field reads does not, although
    /// JSONDecoder, which checks only the strings it reads, would let it pass.
    @Test func aTrailingCommaIsJSONDecodersAndEveryStringIsChecked() throws {
        let trailing = Array(#"{"value": "a", "tags": {"t": "v",}, "attributes": {"exp": 12,},}"#.utf8)
        #expect(try #require(KeyVaultWire.Bundle(json: trailing)) == Self.decoded(trailing))
        for unread in [#"{"value": "a", "other": "\x"}"#, #"{"value": "a", "other": "\udc00"}"#, "{\"value\": \"a\", \"other\": \"\u{1}\"}"] {
            #expect(Self.decoded(Array(unread.utf8)) != nil, "JSONDecoder lets \(unread) pass")
            #expect(KeyVaultWire.Bundle(json: Array(unread.utf8)) == nil, "refused: \(unread)")
        }
        let invalidUTF8: [UInt8] = Array(#"{"value": "a", "other": ""#.utf8) + [0xFF] + Array(#""}"#.utf8)
        #expect(Self.decoded(invalidUTF8) != nil)
        #expect(KeyVaultWire.Bundle(json: invalidUTF8) == nil)
    }
}

/// `JSONTree.integer` is JSONDecoder's Int for every number: plain, with a fraction or an exponent, at and past 2^53
/// and the ends of Int.
@Suite struct JSONIntegerTests {
    struct Holder: Decodable { var value: Int }

    @Test func everyNumberIsTheIntJSONDecoderReads() {
        var texts = ["0", "-0", "15", "3.0", "1.5", "0.5", "1e3", "1E+3", "1e-400", "1.0000000000000001", "9999999999999999.999",
                     "123456789012345678901e-3", "9007199254740993.0", "9007199254740993.5", "1.5e17", "123456789012345678.5",
                     "-9223372036854775808", "-9223372036854775808.0", "9223372036854775807", "9223372036854775808",
                     "9223372036854775295.0", "9223372036854775296.0", "-9223372036854775807.0", "12345678901234567.9", "1e18", "1e19",
                     "0e5", "0.0e400", "-1.5e1", "100e-2", "18446744073709551615e-3", "18446744073709551616e-3", "1e308", "1e309"]
        for _ in 0..<2000 {
            let integer = String(Int.random(in: 1...9)) + String((0..<Int.random(in: 0...20)).map { _ in "0123456789".randomElement()! })
            let fraction = Bool.random() ? "" : "." + String((0..<Int.random(in: 1...6)).map { _ in "0123456789".randomElement()! })
            let exponent = Bool.random() ? "" : "e" + ["", "+", "-"].randomElement()! + String(Int.random(in: 0...25))
            texts.append((Bool.random() ? "-" : "") + integer + fraction + exponent)
        }
        for text in texts {
            let expected = (try? JSONDecoder().decode(Holder.self, from: Data("{\"value\": \(text)}".utf8)))?.value
            #expect(JSONTree.integer(text) == expected, "\(text)")
        }
    }
}
