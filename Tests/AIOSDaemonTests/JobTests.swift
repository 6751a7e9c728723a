import AIOSAPI
import AIOSClient
@testable import AIOSDaemon
import AIOSTestSupport
import Foundation
import Logging
import Testing

@Suite struct JobStoreTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test func jobsSurviveARestartAndUnfinishedOnesAreMarkedInterrupted() throws {
        let directory = try TemporaryDirectory(prefix: "jobs")
        defer { directory.remove() }
        let path = directory.file("jobs.json")
        let store = JobStore(path: path, logger: logger)
        let (first, position) = store.create(kind: "k3s-restart")
        #expect(position == 0)
        store.update(first.id) {
            $0.state = .succeeded
            $0.steps.append(JobStep(name: "restart k3s.service", ok: true, seconds: 1))
        }
        let (second, secondPosition) = store.create(kind: "workload-identity-enable")
        #expect(secondPosition == 0, "nothing is queued or running ahead of it")
        store.update(second.id) { $0.state = .running }
        let (_, third) = store.create(kind: "daemon-reload")
        #expect(third == 1, "one job is running ahead")

        let reloaded = JobStore(path: path, logger: logger)
        #expect(reloaded.get(first.id)?.state == .succeeded)
        #expect(reloaded.get(first.id)?.steps.count == 1)
        #expect(reloaded.get(second.id)?.state == .interrupted)
        #expect(reloaded.list().count == 3)
    }

    @Test func keepsOnlyRecentJobs() throws {
        let store = JobStore(path: nil, logger: logger)
        for _ in 0..<(JobStore.kept + 5) { _ = store.create(kind: "daemon-reload") }
        #expect(store.list().count == JobStore.kept)
    }
}

/// A job over the control socket, in process: NDJSON events, then the job in /v1/jobs. The job used fails on
/// every machine (an http:// issuer is refused, or there is no systemd to ask), which is what it checks.
@Suite struct JobStreamTests {
    @Test func failingJobStreamsEventsAndIsRecorded() async throws {
        try await DaemonHarness.withDaemon { daemon in
            var events: [JobEvent.Kind] = []
            do {
                _ = try daemon.client.runJob(API.workloadIdentityEnable, WorkloadIdentityEnableRequest(issuer: "http://not-https.example/")) { event, _ in
                    events.append(event.event)
                }
                Issue.record("the job should have failed")
            } catch let error as ClientError {
                #expect(error.kind == .failed)
                #expect(error.message.hasPrefix("job "))
            }
            #expect(events.first == .queued)
            #expect(events.contains(.started))
            #expect(events.last == .finished)

            let jobs = try daemon.client.call(API.jobs)
            let job = try #require(jobs.last)
            #expect(job.kind == "workload-identity-enable")
            #expect(job.state == .failed)
            #expect(job.error != nil)
            let shown = try daemon.client.call(API.job, parameters: ["id": job.id])
            #expect(shown == job)
            #expect(throws: ClientError.self) { try daemon.client.call(.job, parameters: ["id": "ffffffff"]) }
        }
    }
}
