import CAtomics
import Dispatch
import Testing

@testable import Metrics

/// The shared slot table within one process: capacity, limits, lookups and concurrent threads.
@Suite struct MetricsSharedTableTests {
    @Test func tableFullDropsNewSeriesAndCountsEveryUpdate() throws {
        let registry = try MetricsRegistry(capacity: 4)
        let family = registry.counterFamily("routes_total", help: "Routes.", labelNames: ["route"])
        for route in ["a", "b", "c", "d"] { #expect(!family.labels(route).isDropped) }
        let overflow = family.labels("e")
        #expect(overflow.isDropped)
        overflow.increment(by: 10)
        overflow.increment()
        registry.histogramFamily("late", help: "Registered too late.", labelNames: ["x"]).labels("y").observe(1)
        registry.gaugeFamily("late_gauge", help: "Also late.").labels().set(3)
        family.labels("a").increment()
        let text = registry.render()
        #expect(text.contains("\nidem_metrics_dropped_updates_total 4\n"))
        #expect(text.contains("\nidem_metrics_series 4\n"))
        #expect(!text.contains("route=\"e\""))
        #expect(!text.contains("late"))
        #expect(text.contains("routes_total{route=\"a\"} 1\n"))
    }

    @Test func labelsLongerThanTheSlotAreDroppedNotTruncated() throws {
        let registry = try MetricsRegistry(capacity: 16, maxIdentityBytes: 32)
        let family = registry.counterFamily("long_total", help: "Long.", labelNames: ["route"])
        // 2 + 10 bytes of name, 2 + 20 of value: exactly 34 > 32.
        let tooLong = family.labels(String(repeating: "x", count: 20))
        #expect(tooLong.isDropped)
        tooLong.increment(by: 7)
        let fits = family.labels(String(repeating: "y", count: 18))
        #expect(!fits.isDropped)
        fits.increment()
        let text = registry.render()
        #expect(text.contains("\nidem_metrics_dropped_updates_total 1\n"))
        #expect(text.contains("long_total{route=\"\(String(repeating: "y", count: 18))\"} 1\n"))
    }

    @Test func sameSeriesFromTwoRegistrationsSharesOneSlot() throws {
        let registry = try MetricsRegistry(capacity: 16)
        let first = registry.counterFamily("hits_total", help: "Hits.", labelNames: ["route"])
        let second = registry.counterFamily("hits_total", help: "Hits.", labelNames: ["route"])
        first.labels("/x").increment()
        second.labels([("route", "/x")]).increment(by: 2)
        #expect(first.labels("/x").value == 3)
        #expect(registry.render().contains("\nidem_metrics_series 1\n"))
    }

    @Test func identityRoundTripsAndHashIsStableFNV1a() throws {
        let bytes = try #require(SeriesIdentity.encode(family: "f", values: ["", "é\u{0}\""], limit: 200))
        #expect(bytes == [1, 0, 0x66, 0, 0, 4, 0, 0xC3, 0xA9, 0, 0x22])
        let decoded = try #require(bytes.withUnsafeBytes { SeriesIdentity.decode($0) })
        #expect(decoded.family == "f" && decoded.values == ["", "é\u{0}\""])
        // Published FNV-1a 64 test vectors: independent of process and run.
        #expect(SeriesIdentity.fnv1a([]) == 0xcbf2_9ce4_8422_2325)
        #expect(SeriesIdentity.fnv1a(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
    }

    @Test func claimerThatNeverFinishesDoesNotBlockTheSeriesAndDuplicatesAreMerged() throws {
        let registry = try MetricsRegistry(capacity: 16)
        let family = registry.counterFamily("stuck_total", help: "Stuck.", labelNames: ["route"])
        let identity = try #require(SeriesIdentity.encode(family: "stuck_total", values: ["/s"], limit: 200))
        let hash = SeriesIdentity.fnv1a(identity)
        let home = Int(hash % 16)
        // Another process claimed the series' home slot and stopped before publishing it.
        catomics_store_release(registry.table.state(home), hash & SharedTable.hashMask | SharedTable.claiming)

        let counter = family.labels("/s")
        #expect(!counter.isDropped)
        #expect(counter.cell != registry.table.values(home))
        counter.increment(by: 2)
        #expect(stuckLines(registry) == ["stuck_total{route=\"/s\"} 2"])

        // The slow claimer finishes after all: both slots hold the series, rendered once, summed.
        identity.withUnsafeBytes {
            (registry.table.slot(home) + 16).copyMemory(from: $0.baseAddress!, byteCount: $0.count)
        }
        catomics_store_relaxed(
            (registry.table.slot(home) + 8).assumingMemoryBound(to: UInt64.self), UInt64(identity.count))
        catomics_fetch_add_relaxed(registry.table.values(home), 5)
        catomics_store_release(registry.table.state(home), hash & SharedTable.hashMask | SharedTable.ready)
        #expect(stuckLines(registry) == ["stuck_total{route=\"/s\"} 7"])
        #expect(family.labels("/s").cell == counter.cell)  // the cache keeps this process on its slot
    }

    private func stuckLines(_ registry: MetricsRegistry) -> [Substring] {
        registry.render().split(separator: "\n").filter { $0.hasPrefix("stuck_total{") }
    }

    @Test func concurrentThreadsIncrementingAndCreatingSeriesAreExact() throws {
        let registry = try MetricsRegistry(capacity: 512)
        let family = registry.counterFamily("threads_total", help: "Threads.", labelNames: ["key"])
        let latency = registry.histogramFamily("threads_seconds", help: "Threads.", buckets: [0.5])
        let shared = family.labels("shared")
        let threads = 8
        let iterations = 20_000
        let keys = (0..<200).map { "k\($0)" }
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            let histogram = latency.labels()
            for i in 0..<iterations {
                shared.increment()
                family.labels(keys[(i + thread) % keys.count]).increment()
                histogram.observe(i % 2 == 0 ? 0.25 : 1)
            }
        }
        #expect(shared.value == UInt64(threads * iterations))
        let text = registry.render()
        for key in keys {
            #expect(text.contains("threads_total{key=\"\(key)\"} \(threads * iterations / keys.count)\n"))
        }
        let total = threads * iterations
        #expect(text.contains("threads_seconds_bucket{le=\"0.5\"} \(total / 2)\n"))
        #expect(text.contains("threads_seconds_sum \(PrometheusText.format(Double(total / 2) * 1.25))\n"))
        #expect(text.contains("threads_seconds_count \(total)\n"))
        #expect(text.contains("\nidem_metrics_series \(keys.count + 2)\n"))
    }
}
