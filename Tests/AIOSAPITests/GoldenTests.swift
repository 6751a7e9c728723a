import AIOSAPI
import Foundation
import Testing

/// Golden JSON of every response of the contract (and the streamed events and the error body): a representative
/// value of each type, every field set, is encoded and compared with Golden/<method>.json. A renamed, retyped or
/// dropped field breaks aiosctl against another aiosd, so it must break here first. After a deliberate change:
/// `AIOS_UPDATE_GOLDEN=1 swift test --filter GoldenTests`, and review the diff.
@Suite struct GoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// `GET /v1/jobs/{id}` -> `get_v1_jobs_id`.
    static func fileName(_ endpoint: Endpoint) -> String {
        ([endpoint.method.rawValue.lowercased()] + endpoint.path.split(separator: "/").map {
            $0.replacingOccurrences(of: "{", with: "").replacingOccurrences(of: "}", with: "").replacingOccurrences(of: "-", with: "_")
        }).joined(separator: "_")
    }

    static func golden(_ name: String, _ value: some Encodable) throws {
        let encoded = try APICoding.encoder(pretty: true).encode(value) + Data("\n".utf8)
        let file = directory.appendingPathComponent(name + ".json")
        if ProcessInfo.processInfo.environment["AIOS_UPDATE_GOLDEN"] != nil {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try encoded.write(to: file)
        }
        let expected = try #require(try? Data(contentsOf: file), "missing \(file.path); run with AIOS_UPDATE_GOLDEN=1 and review it")
        #expect(String(decoding: encoded, as: UTF8.self) == String(decoding: expected, as: UTF8.self), "\(name) differs from \(file.path)")
    }

    /// Every JSON method has an example and a golden file; each decodes back to the value (the client reads what the server writes).
    @Test(arguments: API.all.map { $0.endpoint.description })
    func responseMatchesGolden(_ description: String) throws {
        let method = try #require(API.all.first { $0.endpoint.description == description })
        if method.responseType is PlainText.Type { return }
        let example = try #require(method.responseType as? any GoldenExample.Type, "\(method.responseType) needs a GoldenExample value").example
        try Self.golden(Self.fileName(method.endpoint), example)
        let roundTrips = try Self.roundTrips(example)
        #expect(roundTrips, "\(method.responseType) does not decode to the same value")
    }

    static func roundTrips<T: GoldenExample>(_ value: T) throws -> Bool {
        let data = try APICoding.encoder().encode(value)
        return try APICoding.decoder().decode(T.self, from: data) == value
    }

    @Test func streamedEventsAndErrorBody() throws {
        try Self.golden("event_job", JobEvent(event: .finished, job: "0a1b2c3d", position: 0, stepName: "restart k3s.service",
                                              step: JobStep.example, record: JobRecord.example, response: #"{"changed":true}"#))
        try Self.golden("event_sync", SyncEvent(event: .finished, total: 1, result: SyncResult.example, response: SyncResponse.example))
        try Self.golden("event_keepalive", StreamKeepAlive())
        #expect(Array(try APICoding.encoder().encode(StreamKeepAlive())) + [0x0A] == StreamKeepAlive.line)
        #expect(StreamKeepAlive.isKeepAlive(StreamKeepAlive.line) && StreamKeepAlive.isKeepAlive(Array(#"{ "event" : "keepAlive" }"#.utf8)))
        #expect(!StreamKeepAlive.isKeepAlive(Array(#"{"event":"started","total":3}"#.utf8)))
        try Self.golden("error", APIErrorResponse(error: APIError(code: .permissionDenied, message: "uid 1000 may not POST /v1/sync",
                                                                  hint: "usermod -aG aios-admin USER")))
    }

    /// Every method of `Endpoint.all` is typed in `API.all`, once.
    @Test func everyEndpointIsTyped() {
        #expect(Set(API.all.map(\.endpoint)) == Set(Endpoint.all) && API.all.count == Endpoint.all.count)
        for method in API.all where method.endpoint.method == .get {
            #expect(method.requestType is NoRequest.Type, "\(method.endpoint) is a GET and takes no body")
        }
    }

    /// README names every event of the progress streams, the keep-alive included: `POST /v1/sync`'s in its row of the
    /// API table, the jobs' in the paragraph after it.
    @Test func readmeNamesEveryStreamedEvent() throws {
        let readme = try String(contentsOf: Self.directory.appendingPathComponent("../../../README.md").standardizedFileURL, encoding: .utf8)
        let syncRow = try #require(readme.split(separator: "\n").first { $0.hasPrefix("| `\(API.sync.endpoint)` |") })
        for event in SyncEvent.Kind.allCases.map(\.rawValue) + [StreamKeepAlive.eventName] {
            #expect(syncRow.contains("`\(event)`"), "README's row for \(API.sync.endpoint) does not name the event `\(event)`")
        }
        let jobs = try #require(readme.components(separatedBy: "\n\n").first { $0.hasPrefix("The mutating host endpoints are jobs.") })
        for event in JobEvent.Kind.allCases.map(\.rawValue) + [StreamKeepAlive.eventName] {
            #expect(jobs.contains("\(event)`"), "README's paragraph on jobs does not name the event `\(event)`")
        }
    }

    /// README's API table: one row per method with its level, and each top-level field of the response named in it.
    @Test func readmeTableMatchesTheTypes() throws {
        let readme = try String(contentsOf: Self.directory.appendingPathComponent("../../../README.md").standardizedFileURL, encoding: .utf8)
        // Rows of the API table: a method and path, then a level (other tables name endpoints too).
        let rows = readme.split(separator: "\n").filter { row in
            (row.hasPrefix("| `GET /v1/") || row.hasPrefix("| `POST /v1/")) && AccessLevel.allCases.contains { row.contains("` | \($0) | ") }
        }
        #expect(rows.count == API.all.count, "README's API table has \(rows.count) rows for \(API.all.count) methods")
        for method in API.all {
            let row = try #require(rows.first { $0.hasPrefix("| `\(method.endpoint)` |") }, "README has no row for \(method.endpoint)")
            #expect(row.contains("| \(method.endpoint.level) |"), "\(method.endpoint): README's level differs from \(method.endpoint.level)")
            guard !(method.responseType is PlainText.Type), !(method.responseType is JobRecord.Type),
                  let example = (method.responseType as? any GoldenExample.Type)?.example else { continue }
            let json = try JSONSerialization.jsonObject(with: APICoding.encoder().encode(example))
            let object = (json as? [String: Any]) ?? ((json as? [Any])?.first as? [String: Any]) ?? [:]
            for key in object.keys {
                #expect(row.contains("\"\(key)\""), "README's row for \(method.endpoint) does not name \"\(key)\"")
            }
        }
    }
}

/// A representative value of a wire type, every optional field set.
protocol GoldenExample: Codable, Equatable {
    static var example: Self { get }
}

private let at = Date(timeIntervalSince1970: 1_700_000_000)

extension VersionResponse: GoldenExample {
    static var example: Self { .init(version: "1.2.3", libraries: ["libcurl": "8.5.0", "openssl": "3.0.13", "systemd": "255"]) }
}

extension StatusResponse: GoldenExample {
    static var example: Self {
        .init(version: "1.2.3", pid: 42, startedAt: at, uptimeSeconds: 1.5, configPath: "/etc/aios/aiosd.yaml", configLoadedAt: at,
              lastReload: ReloadOutcome(at: at.addingTimeInterval(100), accepted: false, error: "/etc/aios/aiosd.yaml:2:1: control.maxConnections: bad"),
              socketPath: "/run/aiosd/aiosd.sock", socketActivated: true, underSystemd: true, watchdogSeconds: 30,
              services: [ServiceStatus(name: "control-server", state: .running, detail: "listening")],
              sync: SyncHealth(secrets: 3, failing: 1, expiringSoon: 1, expired: 0, running: false,
                               lastCycle: SyncCycleSummary(startedAt: at, finishedAt: at.addingTimeInterval(2), durationSeconds: 2.2, reason: "schedule",
                                                           outcome: .failed, results: ["applied": 2, "failed": 1]),
                               nextCycleAt: at.addingTimeInterval(3600), failedCyclesInARow: 1, failedCycles: 4),
              clusterWatch: ClusterWatchHealth(watching: true, selected: 2, note: "SecretSyncs labelled aios.microsoft.com/agent=aiosd"),
              hostJobs: HostJobsHealth(running: 0, queued: 0, lastFinished: JobRecord.example),
              k3s: K3sHealth(present: true, ready: true, note: "the API server answers /readyz", configuredIssuer: "https://issuer.example/t/",
                             runningIssuer: "https://issuer.example/t/", servedIssuer: "https://issuer.example/t/", restartPending: false),
              workloadIdentity: IdentityHealth(method: .workloadIdentity, clientId: "00000000-0000-0000-0000-000000000001",
                                               tenantId: "00000000-0000-0000-0000-000000000002", serviceAccount: "azure-iot-operations/aio-ssc-sa",
                                               enabled: true, issuer: "https://issuer.example/t/"),
              cluster: NodeClusterRole(node: "server-1", nodeRole: "server", syncRole: "follower (leader: server-2)", leader: "server-2"))
    }
}

extension DoctorResponse: GoldenExample {
    static var example: Self {
        .init(ok: false, findings: [
            .init(check: "k3s.ready", status: .ok, detail: "the API server answers /readyz"),
            .init(check: "vault.access", status: .fail, detail: "vault contoso-kv: Forbidden: denied",
                  fix: "az role assignment create --role \"Key Vault Secrets User\" ..."),
        ])
    }
}

extension ConfigReloadResponse: GoldenExample {
    static var example: Self { .init(configPath: "/etc/aios/aiosd.yaml", loadedAt: at, needsRestart: ["control.socketPath"]) }
}

extension HostOperationResponse: GoldenExample {
    static var example: Self {
        .init(operation: "restart", unit: "k3s.service", job: "/org/freedesktop/systemd1/job/42", result: "done", activeState: "active",
              subState: "running", serviceResult: "success", mainPID: 812, restarts: 1, durationSeconds: 4.2)
    }
}

extension K3sConfigResponse: GoldenExample {
    static var example: Self {
        let value = K3sConfigResponse.Value(value: "service-account-issuer=https://issuer.example/t/", from: "/etc/rancher/k3s/config.yaml.d/90-aios.yaml:2")
        let setting = K3sConfigResponse.Setting(key: "kube-apiserver-arg", isList: true, values: [value])
        return .init(configPath: "/etc/rancher/k3s/config.yaml", files: [.init(path: "/etc/rancher/k3s/config.yaml.d/90-aios.yaml", settings: [setting])],
                     unit: "k3s.service", unitLoaded: true, commandLine: ["/usr/local/bin/k3s", "server"], effective: [setting])
    }
}

extension APIServerArgsResponse: GoldenExample {
    static var example: Self {
        .init(dropIn: "/etc/rancher/k3s/config.yaml.d/90-aios.yaml", agent: ["audit-log-maxage=30"],
              effective: [.init(value: "audit-log-maxage=30", from: "/etc/rancher/k3s/config.yaml.d/90-aios.yaml:2")])
    }
}

extension K3sChangeResponse: GoldenExample {
    static var example: Self {
        .init(changed: true, dropIn: "/etc/rancher/k3s/config.yaml.d/90-aios.yaml", steps: [JobStep.example], servedIssuer: "https://issuer.example/t/")
    }
}

extension JobStep {
    static var example: Self { .init(name: "restart k3s.service", ok: true, seconds: 4.2, detail: "job done, active/running") }
}

extension JobRecord: GoldenExample {
    static var example: Self {
        .init(id: "0a1b2c3d", kind: "k3s-restart", state: .failed, queuedAt: at, startedAt: at, finishedAt: at.addingTimeInterval(5),
              steps: [JobStep.example], error: APIError(code: .operationFailed, message: "K3s did not come back", hint: "journalctl -u k3s"),
              k3sJournal: ["level=fatal msg=\"bad flag\""])
    }
}

extension Array: GoldenExample where Element == JobRecord {
    static var example: Self { [JobRecord.example] }
}

extension WorkloadIdentityStatusResponse: GoldenExample {
    static var example: Self {
        .init(configuredIssuers: [.init(value: "https://issuer.example/t/", from: "/etc/rancher/k3s/config.yaml.d/90-aios.yaml:2")],
              servedIssuer: "https://issuer.example/t/", servedIssuerError: "none", maxTokenExpiration: .init(value: "24h", from: "90-aios.yaml:3"),
              enabled: true, serviceAccount: "azure-iot-operations/aio-ssc-sa", subject: "system:serviceaccount:azure-iot-operations:aio-ssc-sa",
              audience: "api://AzureADTokenExchange", federatedCredentialCommand: "az identity federated-credential create ...",
              runningIssuers: ["https://issuer.example/t/"], runningMaxTokenExpiration: "24h", restartPending: false)
    }
}

extension SecretStatusInfo {
    static var example: Self {
        .init(state: .synced, lastAttempt: at, lastSuccess: at, stale: true, staleSeconds: 60, contentHash: "sha256:abcd",
              issue: SyncIssueInfo(code: "Throttled", message: "429", hint: "wait"), expires: at.addingTimeInterval(86400), expired: false,
              objects: [.init(objectName: "db-password", alias: "db-password", lastAttempt: at, lastSuccess: at, vaultVersion: "0123456789abcdef0123456789abcdef",
                              vaultUpdated: at, contentHash: "sha256:ef01", issue: SyncIssueInfo(code: "Throttled", message: "429", hint: "wait"),
                              expires: at.addingTimeInterval(86400), notBefore: at)])
    }
}

extension SecretDefinitionInfo {
    static var example: Self {
        .init(name: "db", source: "file", origin: "/etc/aios/secrets.d/db.yaml", keyvaultName: "contoso-kv", tenantId: "00000000-0000-0000-0000-000000000002",
              clientID: "00000000-0000-0000-0000-000000000001", serviceAccountName: "aio-ssc-sa",
              objects: [.init(objectName: "db-password", objectType: "secret", objectVersion: "0123456789abcdef0123456789abcdef", objectVersionHistory: 2,
                              objectAlias: "db-password", objectEncoding: "utf-8", objectFormat: "pem")],
              secretObject: .init(namespace: "apps", name: "db", type: "Opaque", labels: ["app": "db"], annotations: ["note": "x"],
                                  data: [.init(sourcePath: "db-password", targetKey: "password")]),
              forceSynchronization: "2026-11-30")
    }
}

extension SecretListResponse: GoldenExample {
    static var example: Self {
        .init(secrets: [.init(name: "db", source: "file", keyvaultName: "contoso-kv", target: "apps/db", type: "Opaque", objects: ["db-password"],
                              status: SecretStatusInfo.example)],
              invalid: [InvalidDefinition(name: "broken", source: "file", error: "/etc/aios/secrets.d/broken.yaml:2:1: objects: missing")],
              cluster: "SecretSyncs labelled aios.microsoft.com/agent=aiosd are synced",
              unselected: [UnselectedSecretSync(name: "azure-iot-operations/other", reason: "not labelled aios.microsoft.com/agent=aiosd",
                                                fix: "kubectl label secretsync -n azure-iot-operations other aios.microsoft.com/agent=aiosd")],
              syncedBy: "follower (leader: server-2)")
    }
}

extension SecretShowResponse: GoldenExample {
    static var example: Self {
        .init(definition: SecretDefinitionInfo.example, status: SecretStatusInfo.example,
              identity: "workload identity 00000000-0000-0000-0000-000000000001 via service account azure-iot-operations/aio-ssc-sa",
              syncedBy: "follower (leader: server-2)")
    }
}

extension SecretAddResponse: GoldenExample {
    static var example: Self { .init(file: "/etc/aios/secrets.d/db.yaml", replaced: false, definition: SecretDefinitionInfo.example) }
}

extension SecretRemoveResponse: GoldenExample {
    static var example: Self {
        .init(file: "/etc/aios/secrets.d/db.yaml", target: "apps/db", targetDeleted: true,
              cluster: "removed in the cluster (Lease kube-system/aios-definition-db marked removed)")
    }
}

extension SyncResult {
    static var example: Self { .init(name: "db", result: .applied, seconds: 0.35, fetched: 1, issue: SyncIssueInfo(code: "Throttled", message: "429")) }
}

extension SyncResponse: GoldenExample {
    static var example: Self {
        .init(finished: true, startedAt: at, finishedAt: at.addingTimeInterval(1), results: [SyncResult.example],
              invalid: [InvalidDefinition(name: "broken", error: "broken.yaml:2: objects: missing")], vaultRequests: 5, kubernetesRequests: 8,
              standDown: "follower (leader: server-2)")
    }
}

extension ClusterResponse: GoldenExample {
    static var example: Self {
        .init(node: "server-1", leader: "server-2", leaderSince: at, leaseTransitions: 3,
              nodes: [ClusterNodeInfo(name: "server-1", role: "server", version: "1.2.3", syncRole: "follower (leader: server-2)", candidate: true,
                                      lastHeartbeat: at.addingTimeInterval(10), ready: true, issuerConfigured: "https://issuer.example/t/",
                                      issuerServed: "https://issuer.example/t/", issuerRunning: "https://issuer.example/t/")],
              error: "the API server did not answer")
    }
}

extension K3sRolloutResponse: GoldenExample {
    static var example: Self {
        .init(generation: 2, change: "workload-identity enable --issuer https://issuer.example/t/", requestedBy: "root", requestedAt: at,
              state: "running", finishedAt: at.addingTimeInterval(90),
              servers: [.init(name: "server-1", state: "done", startedAt: at, finishedAt: at.addingTimeInterval(40), changed: true,
                              message: "K3s restarted, serving the issuer")],
              object: "kube-system/aios-rollout", abortedBy: "server-2")
    }
}
