import Synchronization

/// What every handle family shares: the family's description, registered in each process, and
/// this process's cache from label values to slot, so repeated lookups skip the shared table.
final class FamilyCore: Sendable {
    enum Kind: Sendable, Equatable {
        case counter, gauge
        case histogram(bounds: [Double])

        var typeName: String {
            switch self {
            case .counter: "counter"
            case .gauge: "gauge"
            case .histogram: "histogram"
            }
        }
    }

    let name: String
    let help: String
    let kind: Kind
    let labelNames: [String]
    let table: SharedTable
    private let cache = Mutex<[[String]: Int]>([:])

    init(name: String, help: String, kind: Kind, labelNames: [String], table: SharedTable) {
        self.name = name
        self.help = help
        self.kind = kind
        self.labelNames = labelNames
        self.table = table
    }

    /// The slot of the series with these label values (in `labelNames` order), or nil when it
    /// cannot have one: its identity is longer than the slot allows, or the table is full.
    /// Failures are not cached: every update through a dropped handle is counted instead.
    func slot(for values: [String]) -> Int? {
        precondition(
            values.count == labelNames.count,
            "\(name) takes \(labelNames.count) label values (\(labelNames)), got \(values.count)")
        if let cached = cache.withLock({ $0[values] }) { return cached }
        guard let identity = SeriesIdentity.encode(family: name, values: values, limit: table.maxIdentityBytes),
            let index = table.findOrInsert(identity)
        else { return nil }
        cache.withLock { $0[values] = index }
        return index
    }

    /// Label values in declared order from name–value pairs given in any order.
    func values(from pairs: [(String, String)]) -> [String] {
        precondition(
            pairs.count == labelNames.count, "\(name) takes labels \(labelNames), got \(pairs.map(\.0))")
        return labelNames.map { label in
            guard let pair = pairs.first(where: { $0.0 == label }) else {
                preconditionFailure("\(name) takes labels \(labelNames), got \(pairs.map(\.0))")
            }
            return pair.1
        }
    }
}
