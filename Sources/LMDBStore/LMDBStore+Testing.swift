import CLMDB
import Idempotency

/// Hooks for LMDBStoreTests (`@testable import`); nothing else calls them.
extension LMDBStore {
    /// The databases a test may write to directly.
    enum Database { case records, expiry, meta }

    /// Test hook: stores raw bytes, bypassing `RecordCodec` (to plant corrupt values).
    func _putRaw(_ database: Database, key: [UInt8], value: [UInt8]) throws(StoreError) {
        let dbi: MDB_dbi
        switch database {
        case .records: dbi = databases.records
        case .expiry: dbi = databases.expiry
        case .meta: dbi = databases.meta
        }
        try withTransaction(readOnly: false) { txn throws(StoreError) in try txn.put(dbi, key, value) }
    }
}
