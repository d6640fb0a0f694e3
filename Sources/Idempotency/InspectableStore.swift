/// What the responder's sweeper and `idemctl` need of a store beyond the four primitives.
/// Every shared store (LMDB, Redis, PostgreSQL) implements it.
public protocol InspectableStore: IdempotencyStore {
    /// Visits every record; a record that fails its integrity check arrives as `.corrupt`.
    /// Returning false stops the walk.
    func forEachRecord(_ visit: (StoreKey, Result<IdempotencyRecord, StoreError>) -> Bool) throws(StoreError)
    /// Deletes the record under `key` whatever its state; false when there was none.
    func purge(_ key: StoreKey) throws(StoreError) -> Bool
    /// Deletes up to `limit` records expired at `now` (never a running claim with a live
    /// lease); returns how many. A store whose server expires keys itself returns 0.
    func sweep(now: Timestamp, limit: Int) throws(StoreError) -> Int
    /// Releases connections or the mapping; later calls fail with `.unavailable`.
    func close()
}
