import Testing

@testable import Metrics

/// The text exposition format 0.0.4 as this process renders it.
@Suite struct MetricsExpositionTests {
    @Test func smallRegistryRendersTheGoldenText() throws {
        let registry = try MetricsRegistry(capacity: 64, prefix: "test_metrics")
        let requests = registry.counterFamily(
            "http_requests_total", help: "Requests answered.", labelNames: ["route", "status"])
        let inFlight = registry.gaugeFamily("http_in_flight", help: "Requests in progress.")
        let latency = registry.histogramFamily(
            "http_duration_seconds", help: "Time to answer.", labelNames: ["route"], buckets: [0.1, 0.5])
        requests.labels("/payments", "201").increment(by: 3)
        requests.labels("/payments", "200").increment()
        requests.labels([("status", "409"), ("route", "/a")]).increment(by: 2)
        inFlight.labels().set(2.5)
        let payments = latency.labels("/payments")
        for seconds in [0.0625, 0.25, 0.25, 7] { payments.observe(seconds) }

        #expect(
            registry.render() == """
                # HELP http_duration_seconds Time to answer.
                # TYPE http_duration_seconds histogram
                http_duration_seconds_bucket{route="/payments",le="0.1"} 1
                http_duration_seconds_bucket{route="/payments",le="0.5"} 3
                http_duration_seconds_bucket{route="/payments",le="+Inf"} 4
                http_duration_seconds_sum{route="/payments"} 7.5625
                http_duration_seconds_count{route="/payments"} 4
                # HELP http_in_flight Requests in progress.
                # TYPE http_in_flight gauge
                http_in_flight 2.5
                # HELP http_requests_total Requests answered.
                # TYPE http_requests_total counter
                http_requests_total{route="/a",status="409"} 2
                http_requests_total{route="/payments",status="200"} 1
                http_requests_total{route="/payments",status="201"} 3
                # HELP test_metrics_dropped_updates_total Updates to series that got no slot (table full or labels too long); their values are not rendered.
                # TYPE test_metrics_dropped_updates_total counter
                test_metrics_dropped_updates_total 0
                # HELP test_metrics_series Series slots in use, by all processes.
                # TYPE test_metrics_series gauge
                test_metrics_series 5
                # HELP test_metrics_series_capacity Series slots in the shared table.
                # TYPE test_metrics_series_capacity gauge
                test_metrics_series_capacity 64

                """)
    }

    @Test func labelValuesAndHelpAreEscaped() throws {
        let registry = try MetricsRegistry(capacity: 16)
        let family = registry.counterFamily(
            "escaped_total", help: "A \\ backslash,\na newline and \"quotes\".", labelNames: ["route"])
        family.labels("/a\\b\"c\"\nd").increment()
        let text = registry.render()
        #expect(text.contains("# HELP escaped_total A \\\\ backslash,\\na newline and \"quotes\".\n"))
        #expect(text.contains("escaped_total{route=\"/a\\\\b\\\"c\\\"\\nd\"} 1\n"))
    }

    @Test func histogramBucketsAreCumulativeWithBoundsInclusive() throws {
        let registry = try MetricsRegistry(capacity: 16)
        let histogram = registry.histogramFamily("sizes", help: "Sizes.", buckets: [1, 2, 4, .infinity]).labels()
        for value in [0.5, 1, 1.5, 3, 4, 100] { histogram.observe(value) }
        let lines = registry.render().split(separator: "\n").filter { $0.hasPrefix("sizes_") }
        #expect(
            lines == [
                "sizes_bucket{le=\"1\"} 2", "sizes_bucket{le=\"2\"} 3", "sizes_bucket{le=\"4\"} 5",
                "sizes_bucket{le=\"+Inf\"} 6", "sizes_sum 110", "sizes_count 6",
            ])
    }

    @Test func histogramNaNObservationLandsInTheInfBucket() throws {
        let registry = try MetricsRegistry(capacity: 16)
        let histogram = registry.histogramFamily("odd", help: "Odd.", buckets: [1]).labels()
        histogram.observe(.nan)
        histogram.observe(.milliseconds(250))
        let text = registry.render()
        #expect(text.contains("odd_bucket{le=\"1\"} 1\nodd_bucket{le=\"+Inf\"} 2\nodd_sum NaN\nodd_count 2\n"))
    }

    @Test func numbersAreFormattedAsClientGolangDoes() {
        let cases: [(Double, String)] = [
            (0, "0"), (-0.0, "0"), (1, "1"), (-1, "-1"), (0.1, "0.1"), (2.5, "2.5"), (0.0001, "0.0001"),
            (0.000123, "0.000123"), (1e-05, "1e-05"), (100_000, "100000"), (123_456.7, "123456.7"),
            (1e6, "1e+06"), (1_234_567, "1.234567e+06"), (1.5e21, "1.5e+21"), (.leastNonzeroMagnitude, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"), (0.1 + 0.2, "0.30000000000000004"),
            (.infinity, "+Inf"), (-.infinity, "-Inf"), (.nan, "NaN"),
        ]
        for (value, expected) in cases {
            #expect(PrometheusText.format(value) == expected, "\(value)")
        }
    }

    @Test func seriesAreSortedByLabelValueBytesAndFamiliesByName() throws {
        let registry = try MetricsRegistry(capacity: 32, prefix: "zz")
        let b = registry.counterFamily("b_total", help: "B.", labelNames: ["k"])
        let a = registry.gaugeFamily("a", help: "A.", labelNames: ["k"])
        for value in ["é", "Z", "a", "10", "9"] { b.labels(value).increment() }
        a.labels("x").set(-3)
        let samples = registry.render().split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("zz") }
        #expect(
            samples == [
                "a{k=\"x\"} -3", "b_total{k=\"10\"} 1", "b_total{k=\"9\"} 1", "b_total{k=\"Z\"} 1",
                "b_total{k=\"a\"} 1", "b_total{k=\"é\"} 1",
            ])
    }

    @Test func labelledFamilyWithoutSeriesIsNotRendered() throws {
        let registry = try MetricsRegistry(capacity: 16)
        _ = registry.counterFamily("unused_total", help: "Never incremented.", labelNames: ["route"])
        #expect(!registry.render().contains("unused_total"))
    }

    @Test func gaugeSetIncrementAndDecrement() throws {
        let registry = try MetricsRegistry(capacity: 16)
        let gauge = registry.gaugeFamily("store_bytes", help: "Bytes.").labels()
        gauge.set(1_048_576)
        gauge.increment(by: 0.5)
        gauge.decrement()
        #expect(gauge.value == 1_048_575.5)
        #expect(registry.render().contains("\nstore_bytes 1.0485755e+06\n"))
    }

    @Test func metricAndLabelNamesFollowPrometheusRules() {
        #expect(MetricNames.isValidMetricName("idem:requests_total"))
        #expect(MetricNames.isValidMetricName("_x9"))
        #expect(!MetricNames.isValidMetricName("9x"))
        #expect(!MetricNames.isValidMetricName("a-b"))
        #expect(!MetricNames.isValidMetricName(""))
        #expect(MetricNames.isValidLabelName("route_2"))
        #expect(!MetricNames.isValidLabelName("a:b"))
        #expect(!MetricNames.isValidLabelName("__name__"))
        #expect(!MetricNames.isValidLabelName("é"))
    }
}
