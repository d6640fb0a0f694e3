import HTTP
import Idempotency
import LMDBStore
import Metrics

/// The responder's Prometheus metrics. The registry lives in memory shared by every responder
/// process (create this before `--processes` forks), so whichever process answers a scrape
/// reports the totals of all.
public final class ServerMetrics: Sendable {
    public let registry: MetricsRegistry
    let requests: CounterFamily
    let requestSeconds: HistogramFamily
    let handlerSeconds: HistogramFamily
    let storeSeconds: HistogramFamily
    let takeovers: CounterFamily
    let reloads: CounterFamily
    let storeRecords: Gauge
    let storeUsedBytes: Gauge
    let storeMapBytes: Gauge
    let storeEvicted: Gauge

    /// Latency buckets from 100 µs to 10 s: Idem's own work is sub-millisecond, a durable
    /// commit a fraction of one, a handler anything.
    static let buckets: [Double] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
    ]

    public init(capacity: Int = 4096) throws(MetricsError) {
        registry = try MetricsRegistry(capacity: capacity)
        requests = registry.counterFamily(
            "idem_requests_total",
            help: "Requests answered, by route template and outcome (executed, replayed, conflict, mismatch, "
                + "invalid-key, missing-key, store-error, passthrough, no-route, ...).",
            labelNames: ["route", "outcome"])
        requestSeconds = registry.histogramFamily(
            "idem_request_duration_seconds", help: "Time from routing to the response, inside the responder.",
            labelNames: ["route"], buckets: Self.buckets)
        handlerSeconds = registry.histogramFamily(
            "idem_handler_duration_seconds", help: "Time in the route's handler (requests that ran it).",
            labelNames: ["route"], buckets: Self.buckets)
        storeSeconds = registry.histogramFamily(
            "idem_store_operation_duration_seconds",
            help: "Time of each idempotency store operation (read, claim, complete, release, takeover).",
            labelNames: ["operation"], buckets: Self.buckets)
        takeovers = registry.counterFamily(
            "idem_lease_takeovers_total",
            help: "Running claims taken over by a retry, by reason (lease-expired, owner-dead).",
            labelNames: ["reason"])
        reloads = registry.counterFamily(
            "idem_config_reloads_total", help: "SIGHUP configuration reloads, by result (applied, rejected).",
            labelNames: ["result"])
        storeRecords = registry.gaugeFamily("idem_store_records", help: "Records in the LMDB store.").labels()
        storeUsedBytes = registry.gaugeFamily(
            "idem_store_used_bytes", help: "Bytes of the LMDB map in use (up to the file's high-water mark)."
        ).labels()
        storeMapBytes = registry.gaugeFamily(
            "idem_store_map_bytes", help: "The LMDB map size: the most the store file may grow to."
        ).labels()
        storeEvicted = registry.gaugeFamily(
            "idem_store_evicted_records",
            help: "Finished records evicted to make room in a full map, over the life of the store file."
        ).labels()
        // Both results render from the first scrape, so a rate() of rejections works at once.
        _ = reloads.labels("applied")
        _ = reloads.labels("rejected")
    }

    /// Counts one answered request.
    func record(_ context: RequestContext, elapsedNanoseconds: UInt64) {
        requests.labels(context.route, context.outcome).increment()
        requestSeconds.labels(context.route).observe(Self.seconds(elapsedNanoseconds))
        if context.handlerNanoseconds > 0 {
            handlerSeconds.labels(context.route).observe(Self.seconds(context.handlerNanoseconds))
        }
        for (operation, nanoseconds) in context.storeOperations {
            storeSeconds.labels(operation).observe(Self.seconds(nanoseconds))
        }
        if let reason = context.takeoverReason { takeovers.labels(reason).increment() }
    }

    func recordReload(applied: Bool) { reloads.labels(applied ? "applied" : "rejected").increment() }

    /// The text exposition, with the store's figures read now.
    func render(store: (any IdempotencyStore)?) -> Response {
        if let lmdb = store as? LMDBStore, let stats = try? lmdb.stats() {
            storeRecords.set(Double(stats.recordCount))
            storeUsedBytes.set(Double(stats.usedBytes))
            storeMapBytes.set(Double(stats.mapSizeBytes))
            storeEvicted.set(Double(stats.evictions))
        }
        var headers = Headers()
        headers.set("Content-Type", MetricsRegistry.contentType)
        headers.set("Cache-Control", "no-store")
        return Response(status: .ok, headers: headers, body: Array(registry.render().utf8))
    }

    static func seconds(_ nanoseconds: UInt64) -> Double { Double(nanoseconds) / 1e9 }
}
