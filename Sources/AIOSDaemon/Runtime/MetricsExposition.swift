import AIOSAPI
import AIOSCore
import FoundationEssentials

/// What `GET /v1/metrics` and the optional metrics listener serve: the registry's counters and histograms, and
/// gauges computed from the sync state when scraped. Labels carry definition names, services, codes and
/// outcomes only: never a value, and never a vault object's name.
enum MetricsExposition {
    static let syncCycles = "aiosd_sync_cycles_total"
    static let syncResults = "aiosd_sync_results_total"
    static let hostJobs = "aiosd_host_jobs_total"
    static let requests = "aiosd_http_requests_total"
    static let requestDuration = "aiosd_http_request_duration_seconds"

    /// Counts a finished cycle and its definitions' results.
    static func record(_ cycle: SyncCycleSummary, registry: MetricsRegistry = .shared) {
        registry.increment(syncCycles, ["outcome": cycle.outcome.rawValue])
        for (result, count) in cycle.results { registry.increment(syncResults, ["result": result], by: Double(count)) }
    }

    static func text(sync: SecretSyncRunner, registry: MetricsRegistry = .shared, now: Date = Date()) -> String {
        var families = families(statuses: sync.engine.allStatuses, lastCycle: sync.lastCycle, registry: registry, now: now)
        if let election = sync.election { families.append(leaderFamily(election.leaderGauge)) }
        return PrometheusText.render(families)
    }

    static let syncLeader = "aiosd_sync_leader"

    /// 1 on the node that syncs (the Lease holder with a fresh renewal, or a lone node with election off), else 0.
    static func leaderFamily(_ value: Double) -> PrometheusText.Family {
        .init(name: syncLeader, help: "1 while this node is the one that syncs (it holds the sync Lease, or leader election is off); else 0.",
              kind: .gauge, samples: [PrometheusText.Sample(name: syncLeader, value: value)])
    }

    static func families(statuses: [SyncDefinitionStatus], lastCycle: SyncCycleSummary?, registry: MetricsRegistry,
                         now: Date) -> [PrometheusText.Family] {
        typealias Sample = PrometheusText.Sample
        var families: [PrometheusText.Family] = [
            .init(name: "aiosd_build_info", help: "aiosd's version; always 1.", kind: .gauge,
                  samples: [Sample(name: "aiosd_build_info", labels: [("version", AgentVersion.current)], value: 1)]),
            .init(name: syncCycles, help: "Secret sync cycles finished, by outcome (ok or failed).", kind: .counter,
                  samples: registry.counterSamples(syncCycles)),
            .init(name: syncResults, help: "Definitions synced, by result (applied, unchanged, failed, retained, deleted, invalid).",
                  kind: .counter, samples: registry.counterSamples(syncResults)),
        ]
        if let lastCycle {
            families.append(.init(name: "aiosd_sync_last_cycle_timestamp_seconds", help: "When the last sync cycle finished (Unix time).",
                                  kind: .gauge, samples: [Sample(name: "aiosd_sync_last_cycle_timestamp_seconds", value: lastCycle.finishedAt.timeIntervalSince1970.rounded())]))
            families.append(.init(name: "aiosd_sync_last_cycle_duration_seconds", help: "How long the last sync cycle took.",
                                  kind: .gauge, samples: [Sample(name: "aiosd_sync_last_cycle_duration_seconds", value: lastCycle.durationSeconds)]))
        }
        let success = statuses.compactMap { status in
            status.lastSuccess.map { Sample(name: "aiosd_secret_last_success_timestamp_seconds", labels: [("definition", status.name)],
                                            value: $0.timeIntervalSince1970.rounded()) }
        }
        families.append(.init(name: "aiosd_secret_last_success_timestamp_seconds",
                              help: "When each definition was last synced successfully (Unix time).", kind: .gauge, samples: success))
        families.append(.init(name: "aiosd_secret_failing", help: "1 when a definition's last sync failed (its last good Secret is kept).",
                              kind: .gauge, samples: statuses.map { status in
                                  Sample(name: "aiosd_secret_failing", labels: [("definition", status.name)],
                                         value: SecretWire.isFailing(status) ? 1 : 0)
                              }))
        let expiry = statuses.compactMap { status in
            status.objects.compactMap(\.expires).min().map {
                Sample(name: "aiosd_secret_expiry_timestamp_seconds", labels: [("definition", status.name)], value: Double($0))
            }
        }
        families.append(.init(name: "aiosd_secret_expiry_timestamp_seconds",
                              help: "The earliest expiry of a definition's objects: Key Vault's exp or a certificate's notAfter (Unix time).",
                              kind: .gauge, samples: expiry))
        families.append(.init(name: requests, help: "HTTP requests to Key Vault, Entra ID, managed identity and the Kubernetes API, by service and status code (error: no response; 429: throttled).",
                              kind: .counter, samples: registry.counterSamples(requests)))
        families.append(.init(name: requestDuration, help: "Latency of HTTP requests to Key Vault, Entra ID, managed identity and the Kubernetes API.",
                              kind: .histogram, samples: registry.histogramSamples(requestDuration)))
        families.append(.init(name: hostJobs, help: "Host jobs finished (K3s restarts, workload identity changes, ...), by kind and outcome.",
                              kind: .counter, samples: registry.counterSamples(hostJobs)))
        return families
    }
}
