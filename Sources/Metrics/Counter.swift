import CAtomics

/// A counter family: one name and help, one series per combination of label values.
public final class CounterFamily: Sendable {
    let core: FamilyCore

    init(core: FamilyCore) {
        self.core = core
    }

    /// The series with these label values, in the order the label names were registered.
    public func labels(_ values: [String]) -> Counter {
        guard let index = core.slot(for: values) else { return Counter(cell: core.table.droppedCell, dropped: true) }
        return Counter(cell: core.table.values(index), dropped: false)
    }

    /// The series with these label values, given as label values in registration order.
    public func labels(_ values: String...) -> Counter {
        labels(values)
    }

    /// The series with these name–value pairs, in any order; the names must be the registered ones.
    public func labels(_ pairs: [(String, String)]) -> Counter {
        labels(core.values(from: pairs))
    }
}

/// One counter series; cheap to copy and to keep. `increment` is one atomic add on shared memory.
public struct Counter: @unchecked Sendable {
    let cell: UnsafeMutablePointer<UInt64>
    let dropped: Bool

    /// Adds `amount`, visible to every process sharing the registry.
    public func increment(by amount: UInt64 = 1) {
        catomics_fetch_add_relaxed(cell, dropped ? 1 : amount)
    }

    /// Whether the series had no slot, so its updates are only counted as dropped.
    public var isDropped: Bool { dropped }

    /// This slot's current value (0 for a dropped series).
    public var value: UInt64 { dropped ? 0 : catomics_load_relaxed(cell) }
}
