import Idempotency

extension PostgresStore {
    /// Walks the table in key order, `batchSize` rows per query, holding no connection while
    /// `visit` runs. Rows written during the walk may or may not be seen.
    public func forEachRecord(_ visit: (StoreKey, Result<IdempotencyRecord, StoreError>) -> Bool) throws(StoreError) {
        var after: [UInt8] = []
        while true {
            let now = clock.now()
            let page = try pool.withConnection {
                c throws(StoreError) -> [(StoreKey, Result<IdempotencyRecord, StoreError>)] in
                let result = try c.run(.page, [.bytes(after), .int32(Int32(Self.batchSize))])
                return (0..<result.rows).map { row in
                    let key = StoreKey(bytes: result.bytes(row, 0) ?? [])
                    do throws(StoreError) {
                        return (key, .success(try decodeRow(result, row: row, column: 1, key: key, now: now)))
                    } catch {
                        return (key, .failure(error))
                    }
                }
            }
            for (key, record) in page where !visit(key, record) { return }
            guard page.count == Self.batchSize, let last = page.last else { return }
            after = last.0.bytes
        }
    }

    /// `DELETE … WHERE store_key = $1`, whatever the record's state or integrity.
    public func purge(_ key: StoreKey) throws(StoreError) -> Bool {
        try pool.withConnection { c throws(StoreError) -> Bool in
            try c.run(.purge, [.bytes(key.bytes)]).affectedRows == 1
        }
    }

    /// Deletes up to `limit` expired rows, `batchSize` per statement, oldest expiry first.
    /// Expiry is the server's (`expires_at <= now()`): `now` is ignored. A running claim with a
    /// live lease is kept. The columns decide, so a row with corrupt bytes is swept like any other.
    public func sweep(now: Timestamp, limit: Int) throws(StoreError) -> Int {
        var deleted = 0
        while deleted < limit {
            let batch = min(limit - deleted, Self.batchSize)
            let n = try pool.withConnection { c throws(StoreError) -> Int in
                try c.run(.sweep, [.int32(Int32(batch))]).affectedRows
            }
            deleted += n
            if n < batch { break }
        }
        return deleted
    }
}
