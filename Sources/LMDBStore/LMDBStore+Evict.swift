import CLMDB
import Idempotency

extension LMDBStore {
    /// Makes room after `MDB_MAP_FULL` once expired records are gone: deletes up to `limit`
    /// finished records (complete or unavailable) with the earliest expiry, which with one TTL
    /// are the oldest. In-progress claims are never evicted: a running request keeps its key.
    /// Counts the evictions in "meta" for `idemctl stats`. One write transaction.
    func evictOldest(limit: Int) throws(StoreError) -> Int {
        try withTransaction(readOnly: false) { txn throws(StoreError) -> Int in
            var doomed: [(entry: [UInt8], key: StoreKey)] = []
            try txn.scan(databases.expiry) { entry, _ throws(StoreError) -> Bool in
                guard let (_, key) = ExpiryIndex.parse(entry) else { return true }
                guard let record = try? self.stored(key, in: txn), record.state != .inProgress else { return true }
                doomed.append((entry, key))
                return doomed.count < limit
            }
            for (entry, key) in doomed {
                try txn.delete(databases.expiry, entry)
                try txn.delete(databases.records, key.bytes)
            }
            if !doomed.isEmpty {
                let total = try Self.counter(Self.evictionsKey, in: txn, databases) + UInt64(doomed.count)
                try txn.put(databases.meta, Self.evictionsKey, Self.bigEndian(total))
            }
            return doomed.count
        }
    }

    /// How many records `MDB_MAP_FULL` recovery has evicted over the life of the file.
    public func evictionCount() throws(StoreError) -> UInt64 {
        try withTransaction(readOnly: true) { txn throws(StoreError) in
            try Self.counter(Self.evictionsKey, in: txn, self.databases)
        }
    }

    static let evictionsKey = Array("evictions".utf8)

    static func counter(_ name: [UInt8], in txn: borrowing Transaction, _ dbs: Databases) throws(StoreError) -> UInt64 {
        guard let bytes = try txn.get(dbs.meta, name), bytes.count == 8 else { return 0 }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func bigEndian(_ value: UInt64) -> [UInt8] {
        stride(from: 56, through: 0, by: -8).map { UInt8(truncatingIfNeeded: value >> UInt64($0)) }
    }
}
