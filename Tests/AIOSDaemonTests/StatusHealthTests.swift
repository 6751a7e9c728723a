import AIOSAPI
import AIOSClient
import Foundation
import Glibc
import Testing
import AIOSTestSupport

/// `GET /v1/status` carries the health of secret sync, the cluster watch and host jobs as fields.
@Suite struct StatusHealthTests {
    @Test func statusReportsTheScheduledCycleAndTheNextOne() async throws {
        try await DaemonHarness.withDaemon(config: "sync:\n  interval: 1h\n  jitter: 0s\n") { daemon in
            let before = try daemon.client.call(API.status)
            let first = try #require(before.sync?.nextCycleAt, "the first cycle is scheduled at start")
            if before.sync?.lastCycle == nil { #expect(first < Date().addingTimeInterval(3), "2 s after the start: \(first)") }
            // The first scheduled cycle runs 2 s after the start; wait for it as a user would, by asking again.
            var status = before
            _ = try Poll.blockingUntil {
                status = try daemon.client.call(API.status)
                return status.sync?.lastCycle != nil
            }
            let sync = try #require(status.sync)
            let last = try #require(sync.lastCycle)
            #expect(last.reason == "schedule" && last.outcome == .ok && last.results.isEmpty)
            #expect(last.finishedAt >= last.startedAt && last.durationSeconds >= 0)
            #expect(sync.secrets == 0 && sync.failing == 0 && sync.expired == 0 && sync.expiringSoon == 0)
            // The schedule sets the next time right after the cycle reports.
            _ = try Poll.blockingUntil {
                status = try daemon.client.call(API.status)
                return (status.sync?.nextCycleAt ?? .distantPast) >= last.finishedAt
            }
            let next = try #require(status.sync?.nextCycleAt)
            #expect(next.timeIntervalSince(last.finishedAt) > 3590 && next.timeIntervalSince(last.finishedAt) < 3610)
            let watch = try #require(status.clusterWatch)
            #expect(!watch.watching && watch.note?.contains("does not exist") == true)
            #expect(status.hostJobs == HostJobsHealth(running: 0, queued: 0, lastFinished: nil))
        }
    }

    @Test func statusJSONHasTheFieldsByName() async throws {
        try await DaemonHarness.withDaemon { daemon in
            let object = try JSONSerialization.jsonObject(with: Data(try daemon.client.call(.status))) as? [String: Any]
            let sync = try #require(object?["sync"] as? [String: Any])
            for key in ["secrets", "failing", "expiringSoon", "expired", "running"] { #expect(sync[key] != nil, "sync.\(key)") }
            #expect(object?["clusterWatch"] is [String: Any])
            #expect((object?["hostJobs"] as? [String: Any])?["running"] as? Int == 0)
            // No K3s in the test's configuration: said as a field, with why.
            let k3s = try #require(object?["k3s"] as? [String: Any])
            #expect(k3s["present"] as? Bool == false)
            #expect((k3s["note"] as? String)?.contains("no usable K3s admin kubeconfig") == true)
            let identity = try #require(object?["workloadIdentity"] as? [String: Any])
            #expect(identity["method"] as? String == "workloadIdentity")
            #expect(identity["serviceAccount"] as? String == "azure-iot-operations/aio-ssc-sa")
            #expect(identity["enabled"] as? Bool == false, "no issuer served")
        }
    }
}
