import Idempotency

/// Records as the idempotency policies build them, for the store suites (LMDB, Redis,
/// PostgreSQL): each suite names its own route, so its keys never meet another suite's.
public enum RecordFixtures {
    public static func scope(_ name: String, route: String) -> Scope {
        Scope(principal: "", method: "POST", route: route, key: IdempotencyKey(unchecked: name))
    }

    /// An in-progress claim of `name` made at `now`.
    public static func claim(
        _ name: String, route: String, at now: Timestamp, ttlMs: Int64 = 86_400_000, leaseMs: Int64 = 60_000,
        token: ClaimToken = .random(), owner: String = ""
    ) -> IdempotencyRecord {
        IdempotencyRecord(
            state: .inProgress, fingerprint: Fingerprint(bytes: [UInt8](repeating: 7, count: Fingerprint.byteCount)),
            createdAt: now, expiresAt: now + ttlMs, leaseUntil: now + leaseMs, token: token, attempt: 1, response: nil,
            scope: scope(name, route: route), owner: owner)
    }
}
