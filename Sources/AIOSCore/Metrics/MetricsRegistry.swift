import AIOSHTTP
import FoundationEssentials
import Synchronization

/// The agent's counters and histograms, in memory (a restart of aiosd starts them at zero, as Prometheus expects
/// of counters). The clients record into `shared`; gauges that describe state (last success, expiry) are
/// computed when scraped, from the state itself, not recorded here.
public final class MetricsRegistry: Sendable {
    public static let shared = MetricsRegistry()

    /// Seconds; from 5 ms to 30 s, for HTTP requests to Key Vault, Entra, managed identity and the API server.
    public static let latencyBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    private struct Key: Hashable {
        var name: String
        var labels: [String]
    }

    private struct Histogram {
        var buckets: [Int]
        var sum: Double = 0
        var count = 0

        mutating func record(_ value: Double) {
            for (index, bound) in MetricsRegistry.latencyBuckets.enumerated() where value <= bound { buckets[index] += 1 }
            sum += value
            count += 1
        }
    }

    private struct Store {
        var counters: [Key: Double] = [:]
        var histograms: [Key: Histogram] = [:]
        var labelNames: [String: [String]] = [:]
    }

    private let store = Mutex(Store())

    public init() {}

    /// Adds `by` to counter `name` with the labels' values (names and values in order).
    public func increment(_ name: String, _ labels: KeyValuePairs<String, String> = [:], by amount: Double = 1) {
        let key = Key(name: name, labels: labels.map(\.value))
        store.withLock {
            $0.counters[key, default: 0] += amount
            if $0.labelNames[name] == nil { $0.labelNames[name] = labels.map(\.key) }
        }
    }

    /// Records `value` (seconds) in histogram `name` with the latency buckets.
    public func observe(_ name: String, _ labels: KeyValuePairs<String, String> = [:], _ value: Double) {
        let key = Key(name: name, labels: labels.map(\.value))
        store.withLock {
            // Changed where it is stored: a copy taken out and put back copied its buckets on every request.
            $0.histograms[key, default: Histogram(buckets: Array(repeating: 0, count: Self.latencyBuckets.count))].record(value)
            if $0.labelNames[name] == nil { $0.labelNames[name] = labels.map(\.key) }
        }
    }

    /// One HTTP exchange with a service (`keyvault`, `entra`, `managed_identity`, `kubernetes`): its status code
    /// (or `error` when no response came) and how long it took.
    public func recordRequest(service: String, status: Int?, seconds: Double) {
        increment("aiosd_http_requests_total", ["service": service, "code": status.map(String.init) ?? "error"])
        observe("aiosd_http_request_duration_seconds", ["service": service], seconds)
    }

    /// Sends with `send` and records the exchange (status or `error`, and latency) for `service`.
    public func measured<E: Error>(service: String, _ send: () throws(E) -> HTTPResponse) throws(E) -> HTTPResponse {
        let started = ContinuousClock.now
        do {
            let response = try send()
            recordRequest(service: service, status: response.status, seconds: Self.seconds(since: started))
            return response
        } catch {
            recordRequest(service: service, status: nil, seconds: Self.seconds(since: started))
            throw error
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = (ContinuousClock.now - start).components
        return Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
    }

    /// A counter family's samples, sorted by label values (a stable exposition).
    public func counterSamples(_ name: String) -> [PrometheusText.Sample] {
        store.withLock { store in
            let names = store.labelNames[name] ?? []
            return store.counters.filter { $0.key.name == name }.sorted { $0.key.labels.lexicographicallyPrecedes($1.key.labels) }
                .map { PrometheusText.Sample(name: name, labels: Array(zip(names, $0.key.labels)), value: $0.value) }
        }
    }

    /// A histogram family's samples: cumulative `_bucket`s with `le`, then `_sum` and `_count`, per label set.
    public func histogramSamples(_ name: String) -> [PrometheusText.Sample] {
        store.withLock { store in
            let names = store.labelNames[name] ?? []
            var samples: [PrometheusText.Sample] = []
            for (key, histogram) in store.histograms.filter({ $0.key.name == name }).sorted(by: { $0.key.labels.lexicographicallyPrecedes($1.key.labels) }) {
                let labels = Array(zip(names, key.labels))
                for (index, bound) in Self.latencyBuckets.enumerated() {
                    samples.append(.init(name: name + "_bucket", labels: labels + [("le", PrometheusText.format(bound))], value: Double(histogram.buckets[index])))
                }
                samples.append(.init(name: name + "_bucket", labels: labels + [("le", "+Inf")], value: Double(histogram.count)))
                samples.append(.init(name: name + "_sum", labels: labels, value: histogram.sum))
                samples.append(.init(name: name + "_count", labels: labels, value: Double(histogram.count)))
            }
            return samples
        }
    }
}
