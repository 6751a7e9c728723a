@testable import AIOSCore
import Foundation
import Testing

@Suite struct PrometheusTextTests {
    @Test func rendersHelpTypeAndEscapedLabels() {
        let text = PrometheusText.render([
            .init(name: "aiosd_x_total", help: "Things\\done\nlately.", kind: .counter, samples: [
                .init(name: "aiosd_x_total", labels: [("definition", "a\"b\\c\nd"), ("code", "200")], value: 3),
                .init(name: "aiosd_x_total", value: 0.25),
            ]),
            .init(name: "aiosd_t_seconds", help: "A time.", kind: .gauge, samples: [.init(name: "aiosd_t_seconds", value: 1_800_000_000)]),
        ])
        #expect(text == """
            # HELP aiosd_x_total Things\\\\done\\nlately.
            # TYPE aiosd_x_total counter
            aiosd_x_total{definition="a\\"b\\\\c\\nd",code="200"} 3
            aiosd_x_total 0.25
            # HELP aiosd_t_seconds A time.
            # TYPE aiosd_t_seconds gauge
            aiosd_t_seconds 1800000000

            """)
        #expect(PrometheusText.format(.infinity) == "+Inf" && PrometheusText.format(.nan) == "NaN")
    }
}

@Suite struct MetricsRegistryTests {
    @Test func countersAddUpPerLabelSet() {
        let registry = MetricsRegistry()
        registry.increment("aiosd_c_total", ["outcome": "ok"])
        registry.increment("aiosd_c_total", ["outcome": "ok"], by: 2)
        registry.increment("aiosd_c_total", ["outcome": "failed"])
        #expect(registry.counterSamples("aiosd_c_total") == [
            .init(name: "aiosd_c_total", labels: [("outcome", "failed")], value: 1),
            .init(name: "aiosd_c_total", labels: [("outcome", "ok")], value: 3),
        ])
        #expect(registry.counterSamples("aiosd_other_total").isEmpty)
    }

    @Test func histogramBucketsAreCumulativeWithSumAndCount() {
        let registry = MetricsRegistry()
        registry.recordRequest(service: "keyvault", status: 200, seconds: 0.004)
        registry.recordRequest(service: "keyvault", status: 429, seconds: 0.3)
        registry.recordRequest(service: "keyvault", status: nil, seconds: 60)
        let samples = registry.histogramSamples("aiosd_http_request_duration_seconds")
        func bucket(_ le: String) -> Double? {
            samples.first { $0.name.hasSuffix("_bucket") && $0.labels.contains { $0 == ("le", le) } }?.value
        }
        #expect(bucket("0.005") == 1 && bucket("0.25") == 1 && bucket("0.5") == 2 && bucket("30") == 2 && bucket("+Inf") == 3)
        #expect(samples.first { $0.name.hasSuffix("_count") }?.value == 3)
        #expect(abs((samples.first { $0.name.hasSuffix("_sum") }?.value ?? 0) - 60.304) < 1e-9)
        #expect(samples.allSatisfy { $0.labels.first! == ("service", "keyvault") })
        #expect(registry.counterSamples("aiosd_http_requests_total").map { $0.labels[1].1 } == ["200", "429", "error"])
    }
}

@Suite struct MetricsConfigurationTests {
    @Test func listenIsOffByDefaultAndLoopbackForABarePort() throws {
        let loader = ConfigurationLoader()
        #expect(try loader.parse("", file: "t").metrics.listen == nil)
        #expect(try loader.parse("metrics:\n  listen: 9464\n", file: "t").metrics.listen == MetricsListenAddress(host: "127.0.0.1", port: 9464))
        #expect(try loader.parse("metrics:\n  listen: 0.0.0.0:9100\n", file: "t").metrics.listen?.isLoopback == false)
        #expect(try loader.parse("metrics:\n  listen: \"[::1]:9464\"\n", file: "t").metrics.listen?.description == "[::1]:9464")
    }

    @Test(arguments: ["localhost:9464", "70000", "1.2.3:80", "1.2.3.4:", "9464x", "[zz]:1", "256.1.1.1:80"])
    func badListenAddressesAreRefused(_ value: String) {
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader().parse("metrics:\n  listen: \"\(value)\"\n", file: "aiosd.yaml") }
    }
}
