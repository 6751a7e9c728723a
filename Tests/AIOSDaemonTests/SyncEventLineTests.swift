import AIOSAPI
@testable import AIOSDaemon
import Foundation
import Testing

/// The `secret` lines of a sync's progress stream are written by hand (`SyncEventLine`); they must be the very
/// text the API's encoder writes for the same event, and read back as the same event.
@Suite struct SyncEventLineTests {
    @Test func aSecretLineIsTheEncodersTextByteForByte() throws {
        let encoder = APICoding.encoder()
        var seconds: [Double] = [0, 1, 0.001, 0.029, 0.1, 0.5, 2.25, 59.999, 1e-7, 123_456.789, 1e20, 3e-5, 0.30000000000000004]
        seconds += (0..<300).map { _ in (Double.random(in: 0..<600) * 1000).rounded() / 1000 }
        seconds += (0..<100).map { _ in Double.random(in: 0..<1e6) }
        var names = ["app", "bench-0001", "a.b-c", "é-日本-🔑", "slash/and\\backslash \"quoted\""]
        names += (0..<100).map { _ in String((0..<Int.random(in: 1...40)).map { _ in Array("abc-.0123456789z/é").randomElement()! }) }
        for (index, value) in seconds.enumerated() {
            let result = SyncResult(name: names[index % names.count], result: SyncResultKind.allCases[index % SyncResultKind.allCases.count],
                                    seconds: value, fetched: index % 4)
            let event = SyncEvent(event: .secret, result: result)
            let line = try #require(SyncEventLine.line(event, encoder: encoder))
            let expected = Array(try encoder.encode(event)) + [0x0A]
            #expect(line == expected, "\(String(decoding: line, as: UTF8.self)) vs \(String(decoding: expected, as: UTF8.self))")
            #expect(try APICoding.decoder().decode(SyncEvent.self, from: Data(line.dropLast())) == event)
        }
    }

    /// The `finished` line: the encoder's text around results written one by one, whatever the response holds
    /// (results with and without issues, invalid definitions whose text holds the very key the results replace).
    @Test func aFinishedLineIsTheEncodersTextByteForByte() throws {
        let encoder = APICoding.encoder()
        let issue = SyncIssueInfo(code: "Throttled", message: "429 \"results\":[] /x", hint: "wait")
        var results = (0..<500).map { index in
            SyncResult(name: "bench-\(index)/é", result: SyncResultKind.allCases[index % SyncResultKind.allCases.count],
                       seconds: (Double.random(in: 0..<60) * 1000).rounded() / 1000, fetched: index % 3,
                       issue: index % 7 == 0 ? issue : nil)
        }
        results.append(SyncResult(name: "\"results\":[]", result: .failed, seconds: 0.5, fetched: 0))
        let responses = [
            SyncResponse(finished: true, startedAt: Date(timeIntervalSince1970: 1_796_000_000), finishedAt: Date(timeIntervalSince1970: 1_796_000_012),
                         results: results, invalid: [InvalidDefinition(name: "\"results\":[]", error: "x.yaml:1:1: \"results\":[] bad")],
                         vaultRequests: 10_402, kubernetesRequests: 10_095, standDown: nil),
            SyncResponse(finished: true, results: Array(results.prefix(1)), standDown: "follower (leader: node-2)"),
            SyncResponse(finished: true, results: [results[0]]),
        ]
        for response in responses {
            let event = SyncEvent(event: .finished, response: response)
            let line = try #require(SyncEventLine.line(event, encoder: encoder))
            let expected = Array(try encoder.encode(event)) + [0x0A]
            #expect(line == expected, "\(String(decoding: line.prefix(400), as: UTF8.self)) vs \(String(decoding: expected.prefix(400), as: UTF8.self))")
            #expect(try APICoding.decoder().decode(SyncEvent.self, from: Data(line.dropLast())) == event)
        }
    }

    /// Events the writer does not cover (an issue, the start, the end) are the encoder's own text.
    @Test func otherEventsAreTheEncoders() throws {
        let encoder = APICoding.encoder()
        let events = [
            SyncEvent(event: .secret, result: SyncResult(name: "app", result: .failed, seconds: 0.2, fetched: 0,
                                                         issue: SyncIssueInfo(code: "Throttled", message: "429", hint: "wait"))),
            SyncEvent(event: .started, total: 3),
            SyncEvent(event: .queued),
            SyncEvent(event: .finished, response: SyncResponse(finished: true, results: [SyncResult(name: "a", result: .applied, seconds: 1, fetched: 1)])),
        ]
        for event in events {
            #expect(SyncEventLine.line(event, encoder: encoder) == Array(try encoder.encode(event)) + [0x0A])
        }
    }
}
