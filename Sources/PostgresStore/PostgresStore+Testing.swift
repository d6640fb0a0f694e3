import Idempotency

/// Hooks for PostgresStoreTests (`@testable import`); nothing else calls them.
extension PostgresStore {
    /// Test hook: runs one statement with `bytea` parameters; returns the rows affected.
    func _execute(_ sql: String, _ params: [[UInt8]] = []) throws(StoreError) -> Int {
        try pool.withConnection { c throws(StoreError) -> Int in
            try c.execute(sql, params.map { .bytes($0) }).affectedRows
        }
    }

    /// Test hook: the stored bytes under `key`, undecoded.
    func _rawRecord(for key: StoreKey) throws(StoreError) -> [UInt8]? {
        try pool.withConnection { c throws(StoreError) -> [UInt8]? in
            let result = try c.execute("SELECT record FROM idem_records WHERE store_key = $1", [.bytes(key.bytes)])
            return result.rows == 1 ? result.bytes(0, 0) : nil
        }
    }
}
