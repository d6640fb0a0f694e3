/// The prepared statements, one per store step. Times are the server's: `now()` is the
/// transaction's start, so one statement sees one instant. Durations arrive as milliseconds
/// measured on the responder's clock from the record's `createdAt`.
enum Statement: String, CaseIterable, Sendable {
    case claim = "idem_claim"
    case read = "idem_read"
    case complete = "idem_complete"
    case heldAttempt = "idem_held_attempt"
    case release = "idem_release"
    case takeOver = "idem_take_over"
    case purge = "idem_purge"
    case sweep = "idem_sweep"
    case page = "idem_page"

    /// Milliseconds until a timestamp column, rounded up so that 0 or less means "passed"
    /// exactly when the server would say so (`column <= now()`).
    static func remaining(_ column: String) -> String {
        "ceil(extract(epoch FROM \(column) - now()) * 1000)::int8"
    }

    static let times = "\(remaining("expires_at")), \(remaining("lease_until"))"

    var sql: String {
        switch self {
        case .claim:
            // $1 key, $2 record, $3 state, $4 token, $5 attempt, $6 ttl ms, $7 lease ms.
            // One row: (true, the replaced record or NULL) when claimed; (false, the live record,
            // its remaining ms) when not; none when the conflicting row is newer than this
            // statement's snapshot (the caller reads it again).
            return """
                WITH prior AS (SELECT record FROM idem_records WHERE store_key = $1),
                claimed AS (
                    INSERT INTO idem_records AS r
                        (store_key, record, state, token, attempt, created_at, expires_at, lease_until)
                    VALUES ($1, $2, $3, $4, $5, now(), now() + $6 * interval '1 millisecond',
                        now() + $7 * interval '1 millisecond')
                    ON CONFLICT (store_key) DO UPDATE SET record = excluded.record, state = excluded.state,
                        token = excluded.token, attempt = excluded.attempt, created_at = excluded.created_at,
                        expires_at = excluded.expires_at, lease_until = excluded.lease_until
                    WHERE r.expires_at <= now()
                    RETURNING 1)
                SELECT true, (SELECT record FROM prior), 0::int8, 0::int8 FROM claimed
                UNION ALL
                SELECT false, record, \(Self.times) FROM idem_records
                WHERE store_key = $1 AND NOT EXISTS (SELECT 1 FROM claimed)
                """
        case .read:
            return "SELECT record, \(Self.times) FROM idem_records WHERE store_key = $1"
        case .complete:
            // $1 key, $2 token, $3 record, $4 state, $5 attempt (the one encoded in $3), $6 ttl ms,
            // $7 lease ms, both from the claim's createdAt, hence from the created_at column.
            return """
                UPDATE idem_records SET record = $3, state = $4,
                    expires_at = created_at + $6 * interval '1 millisecond',
                    lease_until = created_at + $7 * interval '1 millisecond'
                WHERE store_key = $1 AND token = $2 AND state = 1 AND attempt = $5
                """
        case .heldAttempt:
            return "SELECT attempt FROM idem_records WHERE store_key = $1 AND token = $2 AND state = 1"
        case .release:
            return "DELETE FROM idem_records WHERE store_key = $1 AND token = $2 AND state = 1"
        case .takeOver:
            // $1 key, $2 old token, $3 record, $4 new token, $5 new attempt, $6 ttl ms, $7 lease ms, $8 state.
            return """
                UPDATE idem_records SET record = $3, token = $4, attempt = $5, state = $8, created_at = now(),
                    expires_at = now() + $6 * interval '1 millisecond',
                    lease_until = now() + $7 * interval '1 millisecond'
                WHERE store_key = $1 AND token = $2 AND state = 1 AND attempt = $5 - 1
                """
        case .purge:
            return "DELETE FROM idem_records WHERE store_key = $1"
        case .sweep:
            // $1 limit. SKIP LOCKED: concurrent sweepers (one per responder) split the work, and a
            // locked row cannot change under the ctid it was chosen by.
            return """
                DELETE FROM idem_records WHERE ctid = ANY (ARRAY(
                    SELECT ctid FROM idem_records
                    WHERE expires_at <= now() AND NOT (state = 1 AND lease_until > now())
                    ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED))
                """
        case .page:
            // $1 the last key seen (empty to start), $2 limit.
            return """
                SELECT store_key, record, \(Self.times) FROM idem_records
                WHERE store_key > $1 ORDER BY store_key LIMIT $2
                """
        }
    }

    /// `paramTypes` for `PQprepare`: bytea 17, int2 21, int4 23, int8 20.
    var parameterTypes: [UInt32] {
        switch self {
        case .claim: return [17, 17, 21, 17, 23, 20, 20]
        case .read, .purge: return [17]
        case .complete: return [17, 17, 17, 21, 23, 20, 20]
        case .heldAttempt, .release: return [17, 17]
        case .takeOver: return [17, 17, 17, 17, 23, 20, 20, 21]
        case .sweep: return [23]
        case .page: return [17, 23]
        }
    }
}
