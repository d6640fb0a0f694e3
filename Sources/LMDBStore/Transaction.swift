import CLMDB
import Idempotency

/// One LMDB transaction (`MDB_txn`), alive only inside `LMDBStore.withTransaction`, which
/// begins it and ends it exactly once on the same thread. Every value read is copied into a
/// Swift array before the transaction ends: LMDB's pointers die with it.
struct Transaction: ~Copyable {
    let handle: OpaquePointer

    /// `mdb_get`: the value stored under `key`, copied out; nil when absent.
    func get(_ dbi: MDB_dbi, _ key: [UInt8]) throws(StoreError) -> [UInt8]? {
        var value = MDB_val()
        let rc = withValue(key) { k in mdb_get(handle, dbi, &k, &value) }
        if rc == MDB_NOTFOUND { return nil }
        try lmdbCheck(rc, "mdb_get")
        return copy(value)
    }

    /// `mdb_put`: stores `value` under `key`, replacing what was there.
    func put(_ dbi: MDB_dbi, _ key: [UInt8], _ value: [UInt8]) throws(StoreError) {
        let rc = withValue(key) { k in withValue(value) { v in mdb_put(handle, dbi, &k, &v, 0) } }
        try lmdbCheck(rc, "mdb_put")
    }

    /// `mdb_del`: removes `key`; false when it was absent.
    @discardableResult
    func delete(_ dbi: MDB_dbi, _ key: [UInt8]) throws(StoreError) -> Bool {
        let rc = withValue(key) { k in mdb_del(handle, dbi, &k, nil) }
        if rc == MDB_NOTFOUND { return false }
        try lmdbCheck(rc, "mdb_del")
        return true
    }

    /// `mdb_stat`: number of entries in a database.
    func count(_ dbi: MDB_dbi) throws(StoreError) -> Int {
        var stat = MDB_stat()
        try lmdbCheck(mdb_stat(handle, dbi, &stat), "mdb_stat")
        return stat.ms_entries
    }

    /// `mdb_cursor_open` + `mdb_cursor_get(MDB_FIRST/MDB_NEXT)`: visits entries in key order
    /// until `visit` returns false. Keys and values are copied before `visit` sees them.
    func scan(_ dbi: MDB_dbi, _ visit: ([UInt8], [UInt8]) throws(StoreError) -> Bool) throws(StoreError) {
        var cursor: OpaquePointer?
        try lmdbCheck(mdb_cursor_open(handle, dbi, &cursor), "mdb_cursor_open")
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val()
        var value = MDB_val()
        var op = MDB_FIRST
        while true {
            let rc = mdb_cursor_get(cursor, &key, &value, op)
            if rc == MDB_NOTFOUND { return }
            try lmdbCheck(rc, "mdb_cursor_get")
            guard try visit(copy(key), copy(value)) else { return }
            op = MDB_NEXT
        }
    }

    private func copy(_ value: MDB_val) -> [UInt8] {
        guard value.mv_size > 0, let data = value.mv_data else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: value.mv_size))
    }
}

/// An `MDB_val` pointing into `bytes` for the duration of `body` (LMDB never writes through
/// it without `MDB_RESERVE`). An empty array still gets a valid pointer.
func withValue<R>(_ bytes: [UInt8], _ body: (inout MDB_val) -> R) -> R {
    if bytes.isEmpty {
        var byte: UInt8 = 0
        return withUnsafeMutablePointer(to: &byte) { p in
            var v = MDB_val(mv_size: 0, mv_data: UnsafeMutableRawPointer(p))
            return body(&v)
        }
    }
    return bytes.withUnsafeBytes { raw in
        var v = MDB_val(mv_size: raw.count, mv_data: UnsafeMutableRawPointer(mutating: raw.baseAddress))
        return body(&v)
    }
}

extension LMDBStore {
    /// Runs `body` in one transaction: `mdb_txn_begin`, then `mdb_txn_commit` (write) or
    /// `mdb_txn_abort` (read-only, or `body` threw). Always on the calling thread.
    /// `MDB_MAP_RESIZED` (another process grew the file past this process's map) is handled
    /// by adopting the new size and beginning again.
    func withTransaction<T>(
        readOnly: Bool, _ body: (borrowing Transaction) throws(StoreError) -> T
    ) throws(StoreError) -> T {
        if case .done(let result) = try attemptTransaction(readOnly: readOnly, body) { return result }
        try adoptGrownMap()
        guard case .done(let result) = try attemptTransaction(readOnly: readOnly, body) else {
            throw .unavailable("\(path): mdb_txn_begin: \(lmdbMessage(MDB_MAP_RESIZED)) again after adopting it")
        }
        return result
    }

    private enum Attempt<T> {
        case done(T)
        case mapResized
    }

    private func attemptTransaction<T>(
        readOnly: Bool, _ body: (borrowing Transaction) throws(StoreError) -> T
    ) throws(StoreError) -> Attempt<T> {
        try withOpenEnvironment { env throws(StoreError) -> Attempt<T> in
            var begun: OpaquePointer?
            let rc = mdb_txn_begin(env, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &begun)
            if rc == MDB_MAP_RESIZED { return .mapResized }
            try lmdbCheck(rc, "mdb_txn_begin")
            guard let txn = begun else { throw .unavailable("mdb_txn_begin: no transaction") }
            let result: T
            do throws(StoreError) {
                result = try body(Transaction(handle: txn))
            } catch {
                mdb_txn_abort(txn)
                throw error
            }
            if readOnly {
                mdb_txn_abort(txn)
            } else {
                // mdb_txn_commit frees the transaction whether or not it succeeds.
                try lmdbCheck(mdb_txn_commit(txn), "mdb_txn_commit")
            }
            return .done(result)
        }
    }

    /// A write transaction that survives `MDB_MAP_FULL`: the dead transaction is aborted and
    /// room is made in transactions of their own — expired records first, then the oldest
    /// finished records — before `body` runs again. When only running claims are left, the
    /// store is full: `.full`, and the caller answers 503. `body` must decide from what it
    /// reads, since it may run twice.
    func write<T>(
        sweepingAt now: @autoclosure () -> Timestamp, _ body: (borrowing Transaction) throws(StoreError) -> T
    ) throws(StoreError) -> T {
        keepHeadroom(now: now())
        do throws(StoreError) {
            return try withTransaction(readOnly: false, body)
        } catch {
            guard case .full = error else { throw error }
        }
        // In a completely full map even a delete fails (it copies pages too), so room is made
        // with a small emergency extension of the map, which is then handed back.
        let freed = withEmergencyRoom { () -> Int in
            let expired = (try? sweepBatch(now: now(), limit: Self.mapFullSweepLimit)) ?? 0
            let made = expired > 0 ? expired : ((try? evictOldest(limit: Self.mapFullSweepLimit)) ?? 0)
            // LMDB reuses pages freed by a transaction only once a later one has committed.
            if made > 0 { try? advanceTransactionID() }
            return made
        }
        do throws(StoreError) {
            return try withTransaction(readOnly: false, body)
        } catch {
            guard case .full(let message) = error else { throw error }
            throw .full(
                "\(message) (\(path), map \(options.mapSizeBytes) bytes; \(freed) records removed, the rest are "
                    + "running claims; raise store.mapSizeMiB)")
        }
    }

    /// Runs `body` with the map temporarily larger by `emergencyRoomBytes`, then asks for the
    /// configured size back (`mdb_env_set_mapsize`; LMDB keeps what the file already uses).
    /// The file can thus exceed the configured map by at most that much.
    func withEmergencyRoom<T>(_ body: () -> T) -> T {
        let grown: Void? = try? resizeMap(to: options.mapSizeBytes + emergencyRoomBytes)
        defer { if grown != nil { _ = try? resizeMap(to: options.mapSizeBytes) } }
        return body()
    }

    /// Headroom for making room: 1/64 of the map, between 256 KiB and 16 MiB.
    var emergencyRoomBytes: Int { min(max(options.mapSizeBytes / 64, 256 << 10), 16 << 20) }

    /// Commits one tiny change so the pages freed by the previous commit become reusable.
    func advanceTransactionID() throws(StoreError) {
        try withTransaction(readOnly: false) { txn throws(StoreError) in
            let n = try Self.counter(Self.maintenanceKey, in: txn, databases) &+ 1
            try txn.put(databases.meta, Self.maintenanceKey, Self.bigEndian(n))
        }
    }

    static let maintenanceKey = Array("maintenance".utf8)

    /// How many expired records one `MDB_MAP_FULL` recovery deletes: a few pages' worth.
    static let mapFullSweepLimit = 64
}
