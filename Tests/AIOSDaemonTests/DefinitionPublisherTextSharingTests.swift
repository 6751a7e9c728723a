import AIOSCore
@testable import AIOSDaemon
import Testing

/// The publisher keeps the copies it read until the next read; a copy whose text is this node's own text points
/// at the same string instead of holding a second instance of it.
@Suite struct DefinitionPublisherTextSharingTests {
    static func storage(_ text: String) -> UnsafeRawPointer? {
        var text = text
        return text.withUTF8 { UnsafeRawPointer($0.baseAddress) }
    }

    @Test func equalTextsShareOneStringAndOthersAreLeftAlone() {
        func text(_ name: String, _ extra: String = "") -> String { "keyvaultName: kv\nobjects:\n  - objectName: \(name)\(extra)\n" }
        var files: [String: String] = [:]
        var copies: [String: PublishedDefinitions.Copy] = [:]
        for i in 0..<200 {
            let name = "def-\(i)"
            files[name] = text(name)
            // Built apart from the file's text, as read from a Lease: equal bytes, another string.
            let copyText = i % 3 == 2 ? text(name, "-edited") : String(decoding: Array(text(name).utf8), as: UTF8.self)
            copies[name] = PublishedDefinitions.Copy(name: name, text: copyText, publisher: i % 2 == 0 ? "node-a" : "node-b", version: "\(i)")
        }
        copies["only-copy"] = PublishedDefinitions.Copy(name: "only-copy", text: text("only-copy"), publisher: "node-b", version: "1")
        let before = copies
        #expect(Self.storage(copies["def-0"]!.text) != Self.storage(files["def-0"]!))

        PublishedDefinitions.shareTexts(of: &copies, with: files)

        #expect(copies == before, "no copy changes in value")
        for i in 0..<200 {
            let name = "def-\(i)"
            let shared = Self.storage(copies[name]!.text) == Self.storage(files[name]!)
            #expect(shared == (i % 3 != 2), "\(name)")
        }
    }
}
