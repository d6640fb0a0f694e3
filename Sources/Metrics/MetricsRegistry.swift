import Synchronization

/// Prometheus-style counters, gauges and histograms whose values live in memory shared by every
/// process forked after the registry was created: any of them renders the total of all.
///
/// Create it before `fork()`. Register families at start-up with the same code in every process
/// (registering before the fork is simplest); the shared table holds only series identities and
/// values, and each process attaches names, HELP, TYPE and bucket bounds from its own registrations.
public final class MetricsRegistry: Sendable {
    /// The `Content-Type` of `render()`'s output.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    /// client_golang's default buckets, in seconds.
    public static let defaultBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    let table: SharedTable
    let prefix: String
    let maxBuckets: Int
    private let families = Mutex<[String: FamilyCore]>([:])

    /// Maps a shared table of `capacity` series slots. A series whose family name and label values
    /// take more than `maxIdentityBytes` (2 bytes per part plus UTF-8) gets no slot; histograms may
    /// have up to `maxBuckets` finite bounds. The registry's own series are named `prefix_…`.
    public init(
        capacity: Int = 4096, maxIdentityBytes: Int = 200, maxBuckets: Int = 24, prefix: String = "idem_metrics"
    ) throws(MetricsError) {
        precondition(MetricNames.isValidMetricName(prefix), "invalid metric prefix \(prefix)")
        precondition(maxBuckets >= 0, "maxBuckets must not be negative")
        table = try SharedTable(capacity: capacity, maxIdentityBytes: maxIdentityBytes, valuesPerSlot: maxBuckets + 2)
        self.prefix = prefix
        self.maxBuckets = maxBuckets
    }

    /// Registers (or returns the already registered) counter family `name`.
    public func counterFamily(_ name: String, help: String, labelNames: [String] = []) -> CounterFamily {
        CounterFamily(core: register(name, help: help, kind: .counter, labelNames: labelNames))
    }

    /// Registers (or returns the already registered) gauge family `name`.
    public func gaugeFamily(_ name: String, help: String, labelNames: [String] = []) -> GaugeFamily {
        GaugeFamily(core: register(name, help: help, kind: .gauge, labelNames: labelNames))
    }

    /// Registers (or returns the already registered) histogram family `name` with these finite,
    /// strictly increasing upper bounds (a trailing +Inf is implied and may be given).
    public func histogramFamily(
        _ name: String, help: String, labelNames: [String] = [], buckets: [Double] = defaultBuckets
    ) -> HistogramFamily {
        let bounds = buckets.last == .infinity ? Array(buckets.dropLast()) : buckets
        precondition(bounds.allSatisfy(\.isFinite), "\(name): bucket bounds must be finite")
        precondition(zip(bounds, bounds.dropFirst()).allSatisfy(<), "\(name): bucket bounds must increase")
        precondition(bounds.count <= maxBuckets, "\(name): more than \(maxBuckets) buckets")
        precondition(!labelNames.contains("le"), "\(name): a histogram cannot have a label named le")
        let core = register(name, help: help, kind: .histogram(bounds: bounds), labelNames: labelNames)
        return HistogramFamily(core: core, bounds: bounds)
    }

    /// The names the registry renders for itself.
    var ownNames: (dropped: String, series: String, capacity: String) {
        (prefix + "_dropped_updates_total", prefix + "_series", prefix + "_series_capacity")
    }

    /// Every registered family, by name.
    var registeredFamilies: [String: FamilyCore] {
        families.withLock { $0 }
    }

    private func register(_ name: String, help: String, kind: FamilyCore.Kind, labelNames: [String]) -> FamilyCore {
        precondition(MetricNames.isValidMetricName(name), "invalid metric name \(name)")
        precondition(
            ![ownNames.dropped, ownNames.series, ownNames.capacity].contains(name), "\(name) is the registry's own")
        for label in labelNames {
            precondition(MetricNames.isValidLabelName(label), "\(name): invalid label name \(label)")
        }
        precondition(Set(labelNames).count == labelNames.count, "\(name): duplicate label names \(labelNames)")
        let core = families.withLock { registered in
            if let existing = registered[name] {
                precondition(
                    existing.kind == kind && existing.labelNames == labelNames && existing.help == help,
                    "\(name) is already registered as a \(existing.kind.typeName) with labels \(existing.labelNames)")
                return existing
            }
            let core = FamilyCore(name: name, help: help, kind: kind, labelNames: labelNames, table: table)
            registered[name] = core
            return core
        }
        // A family without labels has exactly one series: give it a slot now so it renders as 0.
        if labelNames.isEmpty { _ = core.slot(for: []) }
        return core
    }
}

/// Prometheus naming rules.
enum MetricNames {
    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    static func isValidMetricName(_ name: String) -> Bool {
        isValid(name, allowColon: true)
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with the reserved `__`.
    static func isValidLabelName(_ name: String) -> Bool {
        isValid(name, allowColon: false) && !name.hasPrefix("__")
    }

    private static func isValid(_ name: String, allowColon: Bool) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            return false
        }
        return name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                true
            case UInt8(ascii: ":"): allowColon
            default: false
            }
        }
    }
}
