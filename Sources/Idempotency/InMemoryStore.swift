import Synchronization

/// A process-local store for tests and single-process experiments; same contract as the
/// shared stores, but nothing survives the process.
public final class InMemoryStore: IdempotencyStore {
    private let records = Mutex<[StoreKey: IdempotencyRecord]>([:])

    public init() {}

    public func claim(_ key: StoreKey, _ record: IdempotencyRecord) throws(StoreError) -> ClaimOutcome {
        records.withLock { table in
            let existing = table[key]
            guard ClaimDecision.mayClaim(over: existing, at: record.createdAt) else { return .existing(existing!) }
            table[key] = record
            return .claimed(previous: existing)
        }
    }

    public func complete(_ key: StoreKey, token: ClaimToken, with record: IdempotencyRecord) throws(StoreError) -> Bool
    {
        records.withLock { table in
            guard let current = table[key], current.state == .inProgress, current.token == token else { return false }
            var done = record
            done.attempt = current.attempt  // a takeover's attempt number survives completion
            table[key] = done
            return true
        }
    }

    public func release(_ key: StoreKey, token: ClaimToken) throws(StoreError) -> Bool {
        records.withLock { table in
            guard let current = table[key], current.state == .inProgress, current.token == token else { return false }
            table[key] = nil
            return true
        }
    }

    public func takeOver(_ key: StoreKey, from token: ClaimToken, with record: IdempotencyRecord) throws(StoreError)
        -> Bool
    {
        records.withLock { table in
            guard ClaimDecision.mayTakeOver(table[key], from: token) else { return false }
            var next = record
            next.attempt = table[key]!.attempt &+ 1
            table[key] = next
            return true
        }
    }

    public func record(for key: StoreKey) throws(StoreError) -> IdempotencyRecord? {
        records.withLock { $0[key] }
    }

    public var count: Int { records.withLock { $0.count } }
}
