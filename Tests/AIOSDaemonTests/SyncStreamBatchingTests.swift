import AIOSAPI
import AIOSClient
@testable import AIOSCore
@testable import AIOSDaemon
import AIOSSystemd
import AIOSTestSupport
import Foundation
import Logging
import NIOPosix
import Testing

/// `aiosctl sync --wait` over many definitions that finish close together (a first sync): the control server
/// writes the progress lines that come within `ControlConnectionHandler.streamBatchWindow` as one chunk, whole
/// lines only, in order, and none is lost. One write per line was a tenth of a first sync's CPU at 10,000 Secrets.
extension SecretSyncRunnerTests {
    @Test func progressLinesThatComeTogetherAreWrittenTogetherAndNoneIsLost() async throws {
        let h = try SyncHarness()
        let runner = runner(h)
        let names = (0..<300).map { String(format: "app-%03d", $0) }
        try FileManager.default.createDirectory(atPath: h.configuration.sync.definitions, withIntermediateDirectories: true)
        for name in names {
            h.vaults.set("kv-one", "\(name)-password", "value-of-\(name)")
            let path = "\(h.configuration.sync.definitions)/\(name).yaml"
            try "keyvaultName: kv-one\nobjects:\n  - objectName: \(name)-password\nsecretObject:\n  data:\n    - {sourcePath: \(name)-password, targetKey: password}\n"
                .write(toFile: path, atomically: true, encoding: .utf8)
            // Not left to the umask, which a test running in parallel sets to 0117 while its server binds.
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        }
        try await withSyncServer(h, runner, definitions: names.count + 1) { socketPath in
        let socket = try UnixSocket(connectingTo: socketPath)
        let body = #"{"wait": true, "force": true}"#
        try socket.send("POST /v1/sync HTTP/1.1\r\nHost: aiosd\r\nAccept: \(JobEvent.contentType)\r\n"
                        + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        let answer = socket.readAll(timeout: .seconds(60))
        #expect(answer.closed && answer.text.hasPrefix("HTTP/1.1 200"), "\(answer.text.prefix(300))")
        let chunks = Self.chunks(ofChunkedBody: answer.text)
        let lines = chunks.joined().split(separator: "\n").map(String.init)
        let secrets = lines.filter { $0.contains(#""event":"secret""#) }
        #expect(secrets.count == names.count + 1, "one line per definition: \(secrets.count)")
        #expect(Set(names).isSubset(of: Set(secrets.compactMap(Self.name(inSecretLine:)))))
        // "queued" comes first when the server's own first cycle is still running (a slow machine), as aiosctl shows.
        let progress = lines.drop { $0 == #"{"event":"queued"}"# }
        #expect(progress.first?.contains(#""event":"started""#) == true && progress.last?.contains(#""event":"finished""#) == true,
                "\(progress.first ?? "") ... \(progress.last ?? "")")
        #expect(chunks.allSatisfy { $0.hasSuffix("\n") }, "a chunk holds whole lines")
        // 302 lines in a few hundred milliseconds: one chunk each before the batching.
        #expect(chunks.count * 4 <= lines.count, "\(chunks.count) chunks for \(lines.count) lines")

        // What a user runs reads such chunks line by line.
        let result = try runProcess(BuiltProducts.aiosctl, ["--socket", socketPath, "sync", "--wait", "--force"])
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        for name in names { #expect(result.stdout.contains(" \(name) ("), "\(name) missing from aiosctl's output") }
        }
    }

    /// The data of each chunk of a chunked HTTP/1.1 response (`text` from the status line on).
    static func chunks(ofChunkedBody text: String) -> [String] {
        guard let head = text.range(of: "\r\n\r\n") else { return [] }
        var rest = Substring(text[head.upperBound...])
        var chunks: [String] = []
        while let sizeEnd = rest.range(of: "\r\n"), let size = Int(rest[..<sizeEnd.lowerBound], radix: 16), size > 0 {
            let data = rest.utf8[sizeEnd.upperBound...].prefix(size)
            chunks.append(String(decoding: data, as: UTF8.self))
            rest = Substring(String(decoding: rest.utf8[sizeEnd.upperBound...].dropFirst(size + 2), as: UTF8.self))
        }
        return chunks
    }

    static func name(inSecretLine line: String) -> String? {
        guard let data = line.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let result = object["result"] as? [String: Any] else { return nil }
        return result["name"] as? String
    }
}
