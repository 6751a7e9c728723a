import AIOSAPI
@testable import AIOSDaemon
import Foundation
import Testing

/// `secret list` encodes its entries one at a time into the reply (`APIReply.json(_:member:elements:)`); the bytes
/// must be those of encoding the whole response at once.
@Suite struct APIReplyElementsTests {
    static let texts = ["", "db", "a/b", "\"secrets\":[]", "{\"secrets\":[]}", "quote \" back \\ slash /", "é 日本 🔑", "line\nbreak\u{0}"]

    static func entry(_ index: Int) -> SecretListResponse.Entry {
        let text = { texts.randomElement()! + "\(index)" }
        let date = Bool.random() ? Date(timeIntervalSince1970: Double(Int.random(in: 0...2_000_000_000))) : nil
        return SecretListResponse.Entry(
            name: text(), source: ["file", "cluster"].randomElement()!, keyvaultName: text(), target: "ns/\(text())", type: "Opaque",
            objects: (0..<Int.random(in: 0...3)).map { _ in text() },
            status: SecretStatusInfo(state: SyncState.allCases.randomElement()!, lastAttempt: date, stale: Bool.random(),
                                     contentHash: Bool.random() ? text() : nil,
                                     issue: Bool.random() ? SyncIssueInfo(code: "SecretNotFound", message: text(), hint: text()) : nil,
                                     objects: []))
    }

    @Test func theReplyIsTheWholeResponseEncodedAtOnce() throws {
        for _ in 0..<300 {
            let entries = (0..<Int.random(in: 0...5)).map(Self.entry)
            let invalid = (0..<Int.random(in: 0...2)).map { InvalidDefinition(name: Self.texts.randomElement()! + "\($0)", error: Self.texts.randomElement()!) }
            let cluster = Bool.random() ? Self.texts.randomElement()! : nil
            let whole = APIReply.json(SecretListResponse(secrets: entries, invalid: invalid, cluster: cluster, syncedBy: cluster))
            let filled = APIReply.json(SecretListResponse(secrets: [], invalid: invalid, cluster: cluster, syncedBy: cluster),
                                       member: "secrets", elements: entries.lazy.map { $0 })
            #expect(filled.status == 200)
            #expect(filled.body == whole.body, "\(String(decoding: filled.body, as: UTF8.self))")
            let decoded = try APICoding.decoder().decode(SecretListResponse.self, from: Data(filled.body))
            #expect(decoded.secrets.count == entries.count)
        }
    }

    @Test func aResponseWithoutTheMemberIsAnInternalError() {
        let reply = APIReply.json(InvalidDefinition(name: "x", error: "\"secrets\":[]"), member: "secrets", elements: [1, 2])
        #expect(reply.status == 500)
        #expect(String(decoding: reply.body, as: UTF8.self).contains("no member secrets"))
    }
}
