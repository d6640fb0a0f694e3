import CAtomics

/// A histogram family: one name, help and set of bucket upper bounds; one series per
/// combination of label values.
public final class HistogramFamily: Sendable {
    let core: FamilyCore
    let bounds: [Double]

    init(core: FamilyCore, bounds: [Double]) {
        self.core = core
        self.bounds = bounds
    }

    /// The series with these label values, in the order the label names were registered.
    public func labels(_ values: [String]) -> Histogram {
        guard let index = core.slot(for: values) else {
            return Histogram(cells: core.table.droppedCell, bounds: bounds, dropped: true)
        }
        return Histogram(cells: core.table.values(index), bounds: bounds, dropped: false)
    }

    /// The series with these label values, given as label values in registration order.
    public func labels(_ values: String...) -> Histogram {
        labels(values)
    }

    /// The series with these name–value pairs, in any order; the names must be the registered ones.
    public func labels(_ pairs: [(String, String)]) -> Histogram {
        labels(core.values(from: pairs))
    }
}

/// One histogram series. Cells: the sum (a Double's bits), then one non-cumulative count per
/// bucket, the last for +Inf; `_count` is rendered as their total, so it always equals the
/// +Inf bucket.
public struct Histogram: @unchecked Sendable {
    let cells: UnsafeMutablePointer<UInt64>
    let bounds: [Double]
    let dropped: Bool

    /// Records one observation, e.g. a duration in seconds.
    public func observe(_ value: Double) {
        if dropped {
            catomics_fetch_add_relaxed(cells, 1)
            return
        }
        // The first bucket whose bound is >= value (NaN falls through to +Inf, as in client_golang).
        var bucket = 0
        while bucket < bounds.count && !(value <= bounds[bucket]) { bucket += 1 }
        catomics_fetch_add_relaxed(cells + 1 + bucket, 1)
        addDouble(cells, value)
    }

    /// Records one duration, in seconds.
    public func observe(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        observe(Double(seconds) + Double(attoseconds) * 1e-18)
    }

    /// Whether the series had no slot, so its observations are only counted as dropped.
    public var isDropped: Bool { dropped }
}
