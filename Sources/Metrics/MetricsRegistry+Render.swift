import CAtomics

extension MetricsRegistry {
    /// Every series of every process, in the Prometheus text exposition format 0.0.4: families
    /// sorted by name, each with `# HELP` and `# TYPE`, series sorted by label values (byte order),
    /// labels in registration order. Slots whose family this process has not registered are skipped.
    public func render() -> String {
        let families = registeredFamilies
        var totals: [String: [[String]: SeriesTotals]] = [:]
        for index in 0..<table.capacity where table.isReady(index) {
            guard let (name, values) = SeriesIdentity.decode(table.identity(index)), let family = families[name],
                values.count == family.labelNames.count
            else { continue }
            // Two slots with one identity (see `SharedTable.waitForReady`) are merged here.
            totals[name, default: [:]][values, default: SeriesTotals()].add(table.values(index), kind: family.kind)
        }
        var blocks = totals.map { name, series in (name, Self.render(families[name]!, series)) }
        blocks += ownBlocks()
        blocks.sort { $0.0 < $1.0 }
        return blocks.map(\.1).joined()
    }

    private func ownBlocks() -> [(String, String)] {
        let names = ownNames
        let dropped = catomics_load_relaxed(table.droppedCell)
        let used = catomics_load_relaxed(table.usedCell)
        func block(_ name: String, _ type: String, _ help: String, _ value: UInt64) -> (String, String) {
            (name, "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n")
        }
        return [
            block(
                names.dropped, "counter",
                "Updates to series that got no slot (table full or labels too long); their values are not rendered.",
                dropped),
            block(names.series, "gauge", "Series slots in use, by all processes.", used),
            block(names.capacity, "gauge", "Series slots in the shared table.", UInt64(table.capacity)),
        ]
    }

    private static func render(_ family: FamilyCore, _ series: [[String]: SeriesTotals]) -> String {
        var text = "# HELP \(family.name) \(PrometheusText.escapeHelp(family.help))\n"
        text += "# TYPE \(family.name) \(family.kind.typeName)\n"
        let ordered = series.sorted {
            $0.key.lexicographicallyPrecedes($1.key) { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
        for (values, totals) in ordered {
            let labels = PrometheusText.labels(family.labelNames, values)
            switch family.kind {
            case .counter:
                text += "\(family.name)\(labels) \(totals.integer)\n"
            case .gauge:
                text += "\(family.name)\(labels) \(PrometheusText.format(totals.real))\n"
            case .histogram(let bounds):
                var cumulative: UInt64 = 0
                for (bucket, count) in totals.buckets.enumerated() {
                    cumulative &+= count
                    let le = bucket < bounds.count ? PrometheusText.format(bounds[bucket]) : "+Inf"
                    let bucketLabels = PrometheusText.labels(family.labelNames + ["le"], values + [le])
                    text += "\(family.name)_bucket\(bucketLabels) \(cumulative)\n"
                }
                text += "\(family.name)_sum\(labels) \(PrometheusText.format(totals.real))\n"
                text += "\(family.name)_count\(labels) \(cumulative)\n"
            }
        }
        return text
    }
}

/// One series' values summed over the slots that hold it.
struct SeriesTotals {
    var integer: UInt64 = 0
    var real: Double = 0
    var buckets: [UInt64] = []

    mutating func add(_ cells: UnsafeMutablePointer<UInt64>, kind: FamilyCore.Kind) {
        switch kind {
        case .counter:
            integer &+= catomics_load_relaxed(cells)
        case .gauge:
            real += Double(bitPattern: catomics_load_relaxed(cells))
        case .histogram(let bounds):
            real += Double(bitPattern: catomics_load_relaxed(cells))
            if buckets.isEmpty { buckets = Array(repeating: 0, count: bounds.count + 1) }
            for bucket in buckets.indices { buckets[bucket] &+= catomics_load_relaxed(cells + 1 + bucket) }
        }
    }
}
