import AIOSAPI
import Foundation
import Testing

/// Golden JSON of the contract: a renamed field breaks aiosctl against an older aiosd, so it must break here first.
@Suite struct ContractTests {
    @Test func errorBody() throws {
        let body = APIErrorResponse(error: APIError(code: .permissionDenied, message: "no", hint: "usermod -aG aios you"))
        let json = String(decoding: try APICoding.encoder().encode(body), as: UTF8.self)
        #expect(json == #"{"error":{"code":"permission_denied","hint":"usermod -aG aios you","message":"no"}}"#)
    }

    @Test func statusRoundTrip() throws {
        let status = StatusResponse(
            version: "1.2.3", pid: 42, startedAt: Date(timeIntervalSince1970: 1_700_000_000), uptimeSeconds: 1.5,
            configPath: "/etc/aios/aiosd.yaml", configLoadedAt: Date(timeIntervalSince1970: 1_700_000_000),
            lastReload: ReloadOutcome(at: Date(timeIntervalSince1970: 1_700_000_100), accepted: false, error: "x:1: bad"),
            socketPath: "/run/aiosd/aiosd.sock", socketActivated: true, underSystemd: true, watchdogSeconds: 30,
            services: [ServiceStatus(name: "control-server", state: .running, detail: "listening")])
        let data = try APICoding.encoder().encode(status)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["version", "pid", "startedAt", "uptimeSeconds", "configPath", "configLoadedAt", "lastReload",
                                     "socketPath", "socketActivated", "underSystemd", "watchdogSeconds", "services"])
        #expect(object["startedAt"] as? String == "2023-11-14T22:13:20Z")
        #expect(try APICoding.decoder().decode(StatusResponse.self, from: data) == status)
    }

    @Test func endpointsAreUniqueAndVersioned() {
        #expect(Set(Endpoint.all).count == Endpoint.all.count)
        #expect(Endpoint.all.allSatisfy { $0.path.hasPrefix("/v1/") })
        #expect(Endpoint.all.filter(\.mutating) == [.configReload, .systemdDaemonReload, .k3sRestart, .workloadIdentityEnable, .workloadIdentityDisable, .apiServerArgsEdit,
                                                    .secretAdd, .secretRemove, .sync, .k3sRolloutAbort])
        #expect(Endpoint.all.filter { $0.method == .get }.allSatisfy { !$0.mutating })
    }

    /// Every endpoint declares its level; a GET is for readers, a POST changes something and needs more.
    @Test func levelsFollowTheMethod() {
        for endpoint in Endpoint.all {
            #expect((endpoint.method == .get) == (endpoint.level == .reader), "\(endpoint) is declared \(endpoint.level)")
        }
        #expect(AccessLevel.reader < .operator && AccessLevel.operator < .root)
        #expect(Endpoint.all.filter { $0.level == .root }.isEmpty, "root-only work is decided inside handlers by the domain's policies")
    }

    @Test func pathParameters() {
        #expect(Endpoint.job.match("/v1/jobs/0a1b2c3d") == ["id": "0a1b2c3d"])
        #expect(Endpoint.job.match("/v1/jobs/") == nil)
        #expect(Endpoint.job.match("/v1/jobs/a/b") == nil)
        #expect(Endpoint.jobs.match("/v1/jobs") == [:])
        #expect(Endpoint.job.path(["id": "abc"]) == "/v1/jobs/abc")
    }

    @Test func jobEventRoundTrip() throws {
        let event = JobEvent(event: .step, job: "0a1b2c3d", step: JobStep(name: "restart k3s.service", ok: true, seconds: 1.5))
        let data = try APICoding.encoder().encode(event)
        #expect(!data.contains(0x0A), "one event, one line")
        #expect(try APICoding.decoder().decode(JobEvent.self, from: data) == event)
    }

    @Test func errorCodesHaveHTTPStatuses() {
        for code in APIErrorCode.allCases {
            #expect((400..<600).contains(code.httpStatus))
        }
        #expect(APIErrorCode.permissionDenied.httpStatus == 403)
    }
}

@Suite struct DurationTextTests {
    @Test func twoLargestUnitsTruncatedNeverRoundedUp() {
        #expect(DurationText.format(seconds: 3552.9) == "59m12s")
        #expect(DurationText.format(seconds: 3640.925) == "1h0m")
        #expect(DurationText.format(seconds: 2.2) == "2.2s")
        #expect(DurationText.format(seconds: 2.0) == "2.0s")
        #expect(DurationText.format(seconds: 9.99) == "9.9s")
        #expect(DurationText.format(seconds: 45.7) == "45s")
        #expect(DurationText.format(seconds: 0.35) == "350ms")
        #expect(DurationText.format(seconds: 30 * 86400 - 1) == "29d23h")
        #expect(DurationText.format(seconds: -90) == "-1m30s")
    }

    @Test func relativeCountsDownAndBack() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(DurationText.relative(now.addingTimeInterval(3552), now: now) == "in 59m12s")
        #expect(DurationText.relative(now.addingTimeInterval(-7200), now: now) == "2h0m ago")
    }
}

/// The API's own ISO 8601 text is what Foundation's `.iso8601` strategy writes, for any date.
@Suite struct APIDateTests {
    @Test func matchesFoundationsISO8601ForEveryKindOfDate() throws {
        var dates = [0, 1, -1, 59.999, 951_782_400 /* 2000-02-29 */, 1_796_050_123.75, 4_102_444_799 /* 2099-12-31T23:59:59 */]
            .map { Date(timeIntervalSince1970: $0) }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1000 { dates.append(Date(timeIntervalSince1970: Double.random(in: -2e9...5e9, using: &generator))) }
        for date in dates {
            #expect(APICoding.iso8601(date) == date.formatted(.iso8601), "\(date.timeIntervalSince1970)")
        }
        let encoded = String(decoding: try APICoding.encoder().encode(["at": Date(timeIntervalSince1970: 1_796_050_123.75)]), as: UTF8.self)
        #expect(encoded == #"{"at":"2026-11-30T14:48:43Z"}"#)
        let decoded = try APICoding.decoder().decode([String: Date].self, from: Data(encoded.utf8))
        #expect(decoded["at"] == Date(timeIntervalSince1970: 1_796_050_123))
    }
}
