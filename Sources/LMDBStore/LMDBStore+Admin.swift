import CLMDB
import Idempotency

extension LMDBStore {
    /// Visits every record in key order in one read transaction (safe while responders run:
    /// readers never block writers). A record that fails its integrity check is passed as a
    /// `.corrupt` failure, not skipped.
    public func forEachRecord(
        _ visit: (StoreKey, Result<IdempotencyRecord, StoreError>) -> Bool
    ) throws(StoreError) {
        try withTransaction(readOnly: true) { txn throws(StoreError) in
            try txn.scan(self.databases.records) { keyBytes, value throws(StoreError) -> Bool in
                let key = StoreKey(bytes: keyBytes)
                do throws(RecordCodec.DecodeError) {
                    return visit(key, .success(try RecordCodec.decode(value)))
                } catch {
                    return visit(key, .failure(.corrupt("\(self.path): record \(key): \(error)")))
                }
            }
        }
    }

    /// Deletes the record under `key` whatever its state (an operator unsticking a key,
    /// or removing a corrupt record), with its expiry entry. One write transaction.
    /// Returns false when there was no record.
    public func purge(_ key: StoreKey) throws(StoreError) -> Bool {
        try withTransaction(readOnly: false) { txn throws(StoreError) -> Bool in
            // A corrupt record's expiry entry is unknown; a sweep drops entries without a record.
            if let record = try? self.stored(key, in: txn) {
                try txn.delete(self.databases.expiry, ExpiryIndex.key(expiresAt: record.expiresAt, key))
            }
            return try txn.delete(self.databases.records, key.bytes)
        }
    }
}
extension LMDBStore: InspectableStore {}
