/// Where records live. Four primitives, each one atomic step in the backing store
/// (for LMDB: one write transaction), shared by every process that serves the API.
///
/// Implementer's contract:
/// - `claim` inserts `record` (state `.inProgress`) unless a record that `isLive(at: record.createdAt)`
///   exists; decide with `ClaimDecision` so every store agrees. It never overwrites a live record,
///   not even an in-progress one whose lease ran out: taking that over is the caller's decision.
/// - `takeOver` replaces an in-progress record only while it still holds `token` (compare and
///   swap), setting `attempt` to the old attempt + 1; false when someone else got there first.
/// - `complete` and `release` act only while the stored record is in progress and holds `token`;
///   otherwise they change nothing and return false (the caller lost its lease).
/// - Errors mean "the store could not answer"; callers fail closed with 503.
public protocol IdempotencyStore: AnyObject, Sendable {
    func claim(_ key: StoreKey, _ record: IdempotencyRecord) throws(StoreError) -> ClaimOutcome
    func complete(_ key: StoreKey, token: ClaimToken, with record: IdempotencyRecord) throws(StoreError) -> Bool
    func release(_ key: StoreKey, token: ClaimToken) throws(StoreError) -> Bool
    func takeOver(_ key: StoreKey, from token: ClaimToken, with record: IdempotencyRecord) throws(StoreError) -> Bool
    /// The stored record, live or not; nil when absent.
    func record(for key: StoreKey) throws(StoreError) -> IdempotencyRecord?
}

/// The answer to a claim.
public enum ClaimOutcome: Sendable, Equatable {
    /// The caller now owns the key. `previous` is the expired record it replaced, if any.
    case claimed(previous: IdempotencyRecord?)
    /// A live record already decides this key.
    case existing(IdempotencyRecord)
}

/// The one rule every store applies inside its claim step.
public enum ClaimDecision {
    /// Whether a claim may replace `existing` at `now`.
    public static func mayClaim(over existing: IdempotencyRecord?, at now: Timestamp) -> Bool {
        guard let existing else { return true }
        return !existing.isLive(at: now)
    }

    /// Whether `takeOver` may replace `current`, a claim held by `token`.
    public static func mayTakeOver(_ current: IdempotencyRecord?, from token: ClaimToken) -> Bool {
        guard let current else { return false }
        return current.state == .inProgress && current.token == token
    }
}

/// A store failure, with what an operator needs to know.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The store cannot be reached or used right now (I/O error, lock, connection).
    case unavailable(String)
    /// No room for the record.
    case full(String)
    /// A stored record failed its integrity check; it is never replayed.
    case corrupt(String)

    public var description: String {
        switch self {
        case .unavailable(let s): return "store unavailable: \(s)"
        case .full(let s): return "store full: \(s)"
        case .corrupt(let s): return "corrupt record: \(s)"
        }
    }
}
