import CLMDB
import Idempotency

extension LMDBStore {
    /// Deletes up to `limit` records whose `expiresAt <= now`, oldest expiry first, in write
    /// transactions of at most `sweepBatchSize` deletions so the writer lock is held briefly.
    /// An in-progress record whose lease is still live is kept, and so is a corrupt one
    /// (left for an operator). Returns how many records were deleted.
    public func sweep(now: Timestamp, limit: Int) throws(StoreError) -> Int {
        var deleted = 0
        while deleted < limit {
            let batch = min(limit - deleted, Self.sweepBatchSize)
            let n = try sweepBatch(now: now, limit: batch)
            deleted += n
            if n < batch { break }
        }
        return deleted
    }

    /// Deletions per sweep transaction.
    static let sweepBatchSize = 256

    /// One write transaction of `sweep`: walks the expiry index from its start with a cursor,
    /// then deletes what it chose. Index entries that no longer match a record are dropped too.
    func sweepBatch(now: Timestamp, limit: Int) throws(StoreError) -> Int {
        guard limit > 0 else { return 0 }
        return try withTransaction(readOnly: false) { txn throws(StoreError) -> Int in
            var staleEntries: [[UInt8]] = []
            var doomed: [(entry: [UInt8], key: StoreKey)] = []
            try txn.scan(databases.expiry) { entry, _ throws(StoreError) -> Bool in
                guard let (expiresAt, key) = ExpiryIndex.parse(entry) else {
                    staleEntries.append(entry)
                    return true
                }
                guard expiresAt <= now else { return false }
                let record: IdempotencyRecord?
                do throws(StoreError) {
                    record = try self.stored(key, in: txn)
                } catch {
                    guard case .corrupt = error else { throw error }
                    return true
                }
                guard let record, record.expiresAt == expiresAt else {
                    staleEntries.append(entry)
                    return true
                }
                if record.state == .inProgress, record.leaseUntil > now { return true }
                doomed.append((entry, key))
                return doomed.count < limit
            }
            for entry in staleEntries { try txn.delete(databases.expiry, entry) }
            for (entry, key) in doomed {
                try txn.delete(databases.expiry, entry)
                try txn.delete(databases.records, key.bytes)
            }
            return doomed.count
        }
    }
}
