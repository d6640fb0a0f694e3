import CAtomics

/// A gauge family: one name and help, one series per combination of label values.
public final class GaugeFamily: Sendable {
    let core: FamilyCore

    init(core: FamilyCore) {
        self.core = core
    }

    /// The series with these label values, in the order the label names were registered.
    public func labels(_ values: [String]) -> Gauge {
        guard let index = core.slot(for: values) else { return Gauge(cell: core.table.droppedCell, dropped: true) }
        return Gauge(cell: core.table.values(index), dropped: false)
    }

    /// The series with these label values, given as label values in registration order.
    public func labels(_ values: String...) -> Gauge {
        labels(values)
    }

    /// The series with these name–value pairs, in any order; the names must be the registered ones.
    public func labels(_ pairs: [(String, String)]) -> Gauge {
        labels(core.values(from: pairs))
    }
}

/// One gauge series: a single Double shared by all processes (last `set` wins; `increment` and
/// `decrement` add atomically, so an in-flight count kept by several processes is their total).
public struct Gauge: @unchecked Sendable {
    let cell: UnsafeMutablePointer<UInt64>
    let dropped: Bool

    /// Replaces the value, e.g. with a figure computed just before rendering.
    public func set(_ value: Double) {
        if dropped { return recordDrop() }
        catomics_store_relaxed(cell, value.bitPattern)
    }

    /// Adds `amount` atomically.
    public func increment(by amount: Double = 1) {
        if dropped { return recordDrop() }
        addDouble(cell, amount)
    }

    /// Subtracts `amount` atomically.
    public func decrement(by amount: Double = 1) {
        increment(by: -amount)
    }

    /// Whether the series had no slot, so its updates are only counted as dropped.
    public var isDropped: Bool { dropped }

    /// This slot's current value (0 for a dropped series).
    public var value: Double { dropped ? 0 : Double(bitPattern: catomics_load_relaxed(cell)) }

    private func recordDrop() {
        catomics_fetch_add_relaxed(cell, 1)
    }
}

/// Adds to a Double stored as its bit pattern, by compare-and-swap.
func addDouble(_ cell: UnsafeMutablePointer<UInt64>, _ amount: Double) {
    var current = catomics_load_relaxed(cell)
    while !catomics_compare_exchange(cell, &current, (Double(bitPattern: current) + amount).bitPattern) {}
}
