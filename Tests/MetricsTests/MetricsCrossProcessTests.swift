import CAtomics
import Testing

@testable import Metrics

#if canImport(Glibc)
    import Glibc
#endif

/// Several forked processes updating one registry, as `--processes N` children do.
///
/// A child only touches the already-mapped region and this test's own families (whose locks no
/// other thread holds), then leaves with `_exit`; glibc keeps `malloc` usable after `fork()`, and
/// a warm-up in the parent runs the same code paths first, so the Swift runtime has nothing left
/// to set up in the child.
@Suite(.serialized) struct MetricsCrossProcessTests {
    @Test func childrenUpdatingSharedAndOwnSeriesConcurrentlyGiveExactTotals() throws {
        let registry = try MetricsRegistry(capacity: 4096)
        let requests = registry.counterFamily("requests_total", help: "Requests.", labelNames: ["process"])
        let races = registry.counterFamily("race_total", help: "Created by all at once.", labelNames: ["key"])
        let latency = registry.histogramFamily("latency_seconds", help: "Latency.", buckets: [0.5])
        let children = 6
        let iterations = 20_000
        let raceKeys = (0..<200).map { "k\($0)" }
        let ownLabels = (0..<children).map { "child\($0)" }
        warmUp(registry)
        let shared = requests.labels("shared")  // resolved before the fork: children inherit the handle
        let histogram = latency.labels()

        // Children meet at a barrier before each race key, so they create it at the same moment.
        let barrier = try SharedWords(count: raceKeys.count)
        let pids = try forkAll(children) { child in
            for (round, key) in raceKeys.enumerated() {
                barrier.arriveAndWait(round, parties: children)
                races.labels(key).increment()
            }
            let own = requests.labels(ownLabels[child])
            for i in 0..<iterations {
                shared.increment()
                own.increment()
                histogram.observe(i % 4 == 0 ? 2 : 0.25)
            }
        }
        try waitAll(pids)

        let text = registry.render()
        #expect(text.contains("requests_total{process=\"shared\"} \(children * iterations)\n"))
        for label in ownLabels { #expect(text.contains("requests_total{process=\"\(label)\"} \(iterations)\n")) }
        let raceLines = text.split(separator: "\n").filter { $0.hasPrefix("race_total{") }
        #expect(raceLines.sorted() == raceKeys.map { "race_total{key=\"\($0)\"} \(children)" }.sorted())
        let observations = children * iterations
        #expect(text.contains("latency_seconds_bucket{le=\"0.5\"} \(observations * 3 / 4)\n"))
        #expect(text.contains("latency_seconds_count \(observations)\n"))
        #expect(text.contains("latency_seconds_sum \(PrometheusText.format(Double(observations / 4) * 2.75))\n"))
        // One slot per series: no process created a second copy of a race key.
        let series = 1 + children + raceKeys.count + 1 + warmUpSeries
        #expect(text.contains("\nidem_metrics_series \(series)\n"))
        #expect(text.contains("\nidem_metrics_dropped_updates_total 0\n"))
    }

    @Test func countsOutliveChildrenThatExitOrAreKilledAndRestartedChildrenAddToThem() throws {
        let registry = try MetricsRegistry(capacity: 64)
        let restarts = registry.counterFamily("served_total", help: "Served.")
        warmUp(registry)
        let served = restarts.labels()
        for generation in 0..<3 {
            let pids = try forkAll(1) { _ in
                for _ in 0..<1000 { served.increment() }
                if generation == 1 { kill(getpid(), SIGKILL) }  // died like an OOM-killed child
            }
            try waitAll(pids, allowKilled: generation == 1)
        }
        served.increment(by: 5)
        #expect(registry.render().contains("\nserved_total 3005\n"))
    }

    @Test func seriesCreatedByAChildIsRenderedByTheParentWithItsHelpAndType() throws {
        let registry = try MetricsRegistry(capacity: 64)
        let routes = registry.counterFamily("child_routes_total", help: "Made in a child.", labelNames: ["route"])
        warmUp(registry)
        try waitAll(try forkAll(2) { child in routes.labels(child == 0 ? "/a" : "/b").increment(by: 3) })
        let text = registry.render()
        #expect(
            text.contains(
                """
                # HELP child_routes_total Made in a child.
                # TYPE child_routes_total counter
                child_routes_total{route="/a"} 3
                child_routes_total{route="/b"} 3

                """))
    }

    private let warmUpSeries = 2

    /// Barrier counters in their own shared mapping, for lining children up.
    private struct SharedWords {
        let words: UnsafeMutablePointer<UInt64>

        init(count: Int) throws {
            let mapped = mmap(nil, count * 8, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
            try #require(mapped != nil && mapped != UnsafeMutableRawPointer(bitPattern: -1))
            words = mapped!.assumingMemoryBound(to: UInt64.self)
        }

        func arriveAndWait(_ index: Int, parties: Int) {
            catomics_fetch_add_relaxed(words + index, 1)
            while catomics_load_acquire(words + index) < parties { sched_yield() }
        }
    }

    /// Runs, in this process, the lookup, insertion and update paths the children will run.
    private func warmUp(_ registry: MetricsRegistry) {
        let family = registry.counterFamily("warm_up_total", help: "Warm-up.", labelNames: ["key"])
        family.labels("w").increment()
        family.labels("w").increment()
        registry.histogramFamily("warm_up_seconds", help: "Warm-up.", labelNames: ["key"], buckets: [1]).labels("w")
            .observe(1)
    }

    /// Forks `count` children released together through a pipe; each runs `body` and `_exit(0)`s.
    private func forkAll(_ count: Int, _ body: (Int) -> Void) throws -> [pid_t] {
        var gate: [Int32] = [0, 0]
        try #require(pipe(&gate) == 0)
        var pids: [pid_t] = []
        for child in 0..<count {
            let pid = fork()
            if pid == 0 {
                close(gate[1])
                var byte: UInt8 = 0
                _ = read(gate[0], &byte, 1)  // returns 0 once the parent closes its end
                body(child)
                _exit(0)
            }
            try #require(pid > 0)
            pids.append(pid)
        }
        close(gate[0])
        close(gate[1])
        return pids
    }

    /// Waits for every child (at most 60 s, then kills them) and requires clean exits.
    private func waitAll(_ pids: [pid_t], allowKilled: Bool = false) throws {
        var remaining = Set(pids)
        let deadline = time(nil) + 60
        while !remaining.isEmpty {
            for pid in remaining {
                var status: Int32 = 0
                let waited = waitpid(pid, &status, WNOHANG)
                guard waited == pid else { continue }
                remaining.remove(pid)
                let exitedCleanly = status & 0x7f == 0 && (status >> 8) & 0xff == 0
                let killed = status & 0x7f == SIGKILL
                #expect(exitedCleanly || (allowKilled && killed), "child \(pid) ended with status \(status)")
            }
            if time(nil) > deadline {
                for pid in remaining { kill(pid, SIGKILL) }
                Issue.record("children \(remaining) did not finish within 60 s")
                return
            }
            usleep(1000)
        }
    }
}
