import CLMDB
import Glibc
import Idempotency

extension LMDBStore {
    public func claim(_ key: StoreKey, _ record: IdempotencyRecord) throws(StoreError) -> ClaimOutcome {
        try checkDiskReserve()
        return try groupWrite(sweepingAt: record.createdAt) { txn throws(StoreError) -> ClaimOutcome in
            let existing = try self.stored(key, in: txn)
            guard ClaimDecision.mayClaim(over: existing, at: record.createdAt) else { return .existing(existing!) }
            try self.replace(existing, with: record, at: key, in: txn)
            return .claimed(previous: existing)
        }
    }

    public func complete(_ key: StoreKey, token: ClaimToken, with record: IdempotencyRecord) throws(StoreError) -> Bool
    {
        try groupWrite(sweepingAt: self.clock.now()) { txn throws(StoreError) -> Bool in
            guard let current = try self.stored(key, in: txn), current.state == .inProgress, current.token == token
            else { return false }
            var done = record
            done.attempt = current.attempt  // a takeover's attempt number survives completion
            try self.replace(current, with: done, at: key, in: txn)
            return true
        }
    }

    public func release(_ key: StoreKey, token: ClaimToken) throws(StoreError) -> Bool {
        try groupWrite(sweepingAt: self.clock.now()) { txn throws(StoreError) -> Bool in
            guard let current = try self.stored(key, in: txn), current.state == .inProgress, current.token == token
            else { return false }
            try txn.delete(self.databases.expiry, ExpiryIndex.key(expiresAt: current.expiresAt, key))
            try txn.delete(self.databases.records, key.bytes)
            return true
        }
    }

    public func takeOver(_ key: StoreKey, from token: ClaimToken, with record: IdempotencyRecord) throws(StoreError)
        -> Bool
    {
        try groupWrite(sweepingAt: record.createdAt) { txn throws(StoreError) -> Bool in
            let current = try self.stored(key, in: txn)
            guard ClaimDecision.mayTakeOver(current, from: token), let current else { return false }
            var next = record
            next.attempt = current.attempt &+ 1
            try self.replace(current, with: next, at: key, in: txn)
            return true
        }
    }

    /// `statvfs` of the store's file system: a claim needs room left for its completion.
    func checkDiskReserve() throws(StoreError) {
        guard options.diskReserveBytes > 0 else { return }
        var fs = statvfs()
        guard statvfs(directory, &fs) == 0 else { return }
        let free = Int(fs.f_bavail) * Int(fs.f_frsize)
        if free < options.diskReserveBytes {
            throw .unavailable(
                "\(free) bytes free on the file system of \(path), below the \(options.diskReserveBytes)-byte reserve "
                    + "kept for running requests; free disk space")
        }
    }

    /// One read-only transaction (`MDB_RDONLY`); the bytes are copied out before it ends.
    public func record(for key: StoreKey) throws(StoreError) -> IdempotencyRecord? {
        try withTransaction(readOnly: true) { txn throws(StoreError) in try self.stored(key, in: txn) }
    }

    /// The decoded record under `key`; a value that fails `RecordCodec.decode` is `.corrupt`
    /// and is left in place for an operator: never replayed, never silently replaced.
    func stored(_ key: StoreKey, in txn: borrowing Transaction) throws(StoreError) -> IdempotencyRecord? {
        guard let bytes = try txn.get(databases.records, key.bytes) else { return nil }
        do throws(RecordCodec.DecodeError) {
            return try RecordCodec.decode(bytes)
        } catch {
            throw .corrupt("\(path): record \(key): \(error)")
        }
    }

    /// Writes `new` under `key` and moves its expiry index entry, in the caller's transaction.
    private func replace(
        _ old: IdempotencyRecord?, with new: IdempotencyRecord, at key: StoreKey, in txn: borrowing Transaction
    ) throws(StoreError) {
        if let old, old.expiresAt != new.expiresAt {
            try txn.delete(databases.expiry, ExpiryIndex.key(expiresAt: old.expiresAt, key))
        }
        try txn.put(databases.records, key.bytes, RecordCodec.encode(new))
        try txn.put(databases.expiry, ExpiryIndex.key(expiresAt: new.expiresAt, key), [])
    }
}
