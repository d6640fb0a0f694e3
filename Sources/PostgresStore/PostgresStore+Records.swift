import Idempotency

extension PostgresStore {
    /// One `INSERT … ON CONFLICT DO UPDATE … WHERE expires_at <= now()` (see `Statement.claim`):
    /// a live record (by the server's clock) is returned, never replaced. `previous` is the
    /// replaced expired record as of the statement's snapshot (nil if it was corrupt).
    public func claim(_ key: StoreKey, _ record: IdempotencyRecord) throws(StoreError) -> ClaimOutcome {
        let encoded = RecordCodec.encode(record)
        let params: [Param] = [
            .bytes(key.bytes), .bytes(encoded), .int16(Int16(record.state.rawValue)), .bytes(record.token.bytes),
            .int32(Int32(bitPattern: record.attempt)), .int64(record.expiresAt - record.createdAt),
            .int64(record.leaseUntil - record.createdAt),
        ]
        // Retried only when the key changed between the conflict and our read of it.
        for _ in 0..<8 {
            let answer = try pool.withConnection { c throws(StoreError) -> ClaimOutcome? in
                let result = try c.run(.claim, params)
                guard result.rows == 1 else { return nil }
                if result.integer(0, 0) == 1 {
                    return .claimed(previous: result.bytes(0, 1).flatMap { try? RecordCodec.decode($0) })
                }
                guard (result.integer(0, 2) ?? 0) > 0 else { return nil }  // an older row version
                return .existing(try decodeRow(result, row: 0, column: 1, key: key, now: record.createdAt))
            }
            if let answer { return answer }
            if let current = try read(key, now: record.createdAt, liveOnly: true) { return .existing(current) }
        }
        throw .unavailable("PostgreSQL: key \(key) kept changing during claim")
    }

    /// `UPDATE … WHERE token = $2 AND state = 1` (zero rows: the lease was lost). The stored
    /// attempt is kept: the bytes are written with it, guessed from `record` first and read
    /// back (one more round trip) after a takeover.
    public func complete(_ key: StoreKey, token: ClaimToken, with record: IdempotencyRecord) throws(StoreError) -> Bool
    {
        try pool.withConnection { c throws(StoreError) -> Bool in
            var done = record
            for _ in 0..<2 {
                let result = try c.run(
                    .complete,
                    [
                        .bytes(key.bytes), .bytes(token.bytes), .bytes(RecordCodec.encode(done)),
                        .int16(Int16(done.state.rawValue)), .int32(Int32(bitPattern: done.attempt)),
                        .int64(done.expiresAt - done.createdAt), .int64(done.leaseUntil - done.createdAt),
                    ])
                if result.affectedRows == 1 { return true }
                let held = try c.run(.heldAttempt, [.bytes(key.bytes), .bytes(token.bytes)])
                guard held.rows == 1, let attempt = held.integer(0, 0), UInt32(attempt) != done.attempt else {
                    return false
                }
                done.attempt = UInt32(attempt)
            }
            return false
        }
    }

    /// `DELETE … WHERE token = $2 AND state = 1`.
    public func release(_ key: StoreKey, token: ClaimToken) throws(StoreError) -> Bool {
        try pool.withConnection { c throws(StoreError) -> Bool in
            try c.run(.release, [.bytes(key.bytes), .bytes(token.bytes)]).affectedRows == 1
        }
    }

    /// Reads the held attempt, then `UPDATE … WHERE token = $old AND state = 1 AND attempt = n`
    /// with the record re-encoded as attempt n + 1: a compare and swap on token and attempt.
    public func takeOver(_ key: StoreKey, from token: ClaimToken, with record: IdempotencyRecord) throws(StoreError)
        -> Bool
    {
        try pool.withConnection { c throws(StoreError) -> Bool in
            let held = try c.run(.heldAttempt, [.bytes(key.bytes), .bytes(token.bytes)])
            guard held.rows == 1, let attempt = held.integer(0, 0) else { return false }
            var next = record
            next.attempt = UInt32(truncatingIfNeeded: attempt) &+ 1
            let result = try c.run(
                .takeOver,
                [
                    .bytes(key.bytes), .bytes(token.bytes), .bytes(RecordCodec.encode(next)), .bytes(next.token.bytes),
                    .int32(Int32(bitPattern: next.attempt)), .int64(next.expiresAt - next.createdAt),
                    .int64(next.leaseUntil - next.createdAt), .int16(Int16(next.state.rawValue)),
                ])
            return result.affectedRows == 1
        }
    }

    /// One `SELECT`; times aligned to the server's verdict at `clock.now()`.
    public func record(for key: StoreKey) throws(StoreError) -> IdempotencyRecord? {
        try read(key, now: clock.now(), liveOnly: false)
    }

    func read(_ key: StoreKey, now: Timestamp, liveOnly: Bool) throws(StoreError) -> IdempotencyRecord? {
        try pool.withConnection { c throws(StoreError) -> IdempotencyRecord? in
            let result = try c.run(.read, [.bytes(key.bytes)])
            guard result.rows == 1 else { return nil }
            if liveOnly, (result.integer(0, 1) ?? 0) <= 0 { return nil }
            return try decodeRow(result, row: 0, column: 0, key: key, now: now)
        }
    }
}
