import Idempotency

/// The server's view of a record's times: milliseconds left (0 or less: passed) until
/// `expires_at` and `lease_until`, as of the server's `now()`.
///
/// Why: the policies judge a record with the responder's clock (`isLive(at:)`,
/// `leaseExpired(at:)`), but in a fleet the responders' clocks differ from each other and
/// from the server's, which is the only one that decides. A record handed back keeps the
/// times its writer stored unless they give another verdict than the server's at the
/// caller's "now"; then the time is moved to `now + remaining`. With synchronized clocks the
/// bytes come back unchanged; with skew the verdicts still follow the server.
struct ServerTimes: Equatable {
    let expiresInMs: Int64
    let leaseInMs: Int64

    /// `record` with `expiresAt`/`leaseUntil` moved, where needed, so that at `now` it is
    /// live exactly when the server says so, and its lease expired exactly when the server says so.
    func align(_ record: IdempotencyRecord, now: Timestamp) -> IdempotencyRecord {
        var r = record
        if r.isLive(at: now) != (expiresInMs > 0) { r.expiresAt = now + expiresInMs }
        if r.state == .inProgress, r.leaseExpired(at: now) != (leaseInMs <= 0) { r.leaseUntil = now + leaseInMs }
        return r
    }
}

extension PostgresStore {
    /// Decodes `bytes`; a failure is `.corrupt`, never replayed.
    func decode(_ bytes: [UInt8], key: StoreKey) throws(StoreError) -> IdempotencyRecord {
        do throws(RecordCodec.DecodeError) {
            return try RecordCodec.decode(bytes)
        } catch {
            throw .corrupt("PostgreSQL idem_records: record \(key): \(error)")
        }
    }

    /// Decodes a row `(record, expires ms, lease ms)` starting at `column`, aligned to `now`.
    func decodeRow(
        _ result: borrowing QueryResult, row: Int, column: Int, key: StoreKey, now: Timestamp
    ) throws(StoreError) -> IdempotencyRecord {
        let record = try decode(result.bytes(row, column) ?? [], key: key)
        let times = ServerTimes(
            expiresInMs: result.integer(row, column + 1) ?? 0, leaseInMs: result.integer(row, column + 2) ?? 0)
        return times.align(record, now: now)
    }
}
