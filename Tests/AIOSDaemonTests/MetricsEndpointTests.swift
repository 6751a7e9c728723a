import AIOSAPI
import AIOSClient
import AIOSTestSupport
import Foundation
import Glibc
import Testing

/// `GET /v1/metrics` on the control socket and `GET /metrics` on the optional TCP listener.
@Suite struct MetricsEndpointTests {
    /// The value of the sample `line` names (`name{labels}`), or nil.
    static func value(_ text: String, _ sample: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(sample + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    @Test func socketServesTheExpositionAndCyclesAreCounted() async throws {
        try await DaemonHarness.withDaemon(config: "sync:\n  interval: 1h\n  jitter: 0s\n") { daemon in
            let first = String(decoding: try daemon.client.call(.metrics), as: UTF8.self)
            #expect(first.contains("# TYPE aiosd_sync_cycles_total counter\n"))
            #expect(first.contains("# TYPE aiosd_http_request_duration_seconds histogram\n"))
            #expect(first.contains("aiosd_build_info{version=\"\(AgentVersion.current)\"} 1\n"))
            let before = Self.value(first, #"aiosd_sync_cycles_total{outcome="ok"}"#) ?? 0
            // A cycle counts once. The registry is the process's: other tests' daemons add their cycles whenever
            // they run, so this test runs one of its own (as `aiosctl sync --wait` does) between its two readings.
            _ = try daemon.client.call(API.sync, SyncRequest(wait: true))
            let text = String(decoding: try daemon.client.call(.metrics), as: UTF8.self)
            #expect((Self.value(text, #"aiosd_sync_cycles_total{outcome="ok"}"#) ?? 0) >= before + 1)
            #expect(Self.value(text, "aiosd_sync_last_cycle_timestamp_seconds").map { abs($0 - Date().timeIntervalSince1970) < 60 } == true)
        }
    }

    @Test func theTCPListenerServesOnlyMetrics() async throws {
        let port = 20000 + Int(getpid() % 20000)
        try await DaemonHarness.withDaemon(config: "metrics:\n  listen: \(port)\n") { daemon in
            var result = try runProcess("/usr/bin/curl", ["-sS", "-i", "--retry", "20", "--retry-connrefused", "--retry-delay", "0",
                                                          "http://127.0.0.1:\(port)/metrics"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"))
            #expect(result.stdout.contains("# TYPE aiosd_sync_cycles_total counter"))
            result = try runProcess("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/v1/status"])
            #expect(result.stdout == "404")
            result = try runProcess("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "http://127.0.0.1:\(port)/metrics"])
            #expect(result.stdout == "405")
            let status = try daemon.client.call(API.status)
            #expect(status.services.first { $0.name == "metrics-listener" }?.state == .running)
        }
    }
}
