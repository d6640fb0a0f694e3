import Glibc
import Idempotency

/// Group commit: the writes that threads of one process submit while a commit is running wait
/// for it, then go together in the next write transaction, so one durable commit (LMDB's data
/// sync, meta page write and meta sync, ~250 µs here) carries many claims and completions
/// instead of one. Each caller still returns only after its own write is committed, with the
/// durability the store is configured for: nothing is acknowledged before it is on disk.
///
/// The first thread to find no commit running leads: it takes every queued write, runs them in
/// order in one transaction (a later write sees an earlier one's changes, so two claims of one
/// key in a batch still decide atomically), commits, and wakes the others.
final class GroupCommit: @unchecked Sendable {
    /// One write waiting to be committed.
    final class Entry {
        let body: (borrowing Transaction) throws(StoreError) -> Void
        /// Set under the mutex by the leader once the write's transaction has ended.
        var done = false
        /// The write's own error, when it failed.
        var failure: StoreError?

        init(_ body: @escaping (borrowing Transaction) throws(StoreError) -> Void) { self.body = body }
    }

    /// A batch larger than this waits for the next commit: it bounds how long the writer lock is held.
    let maxBatch: Int
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var queue: [Entry] = []
    private var leading = false
    private var batches = 0
    private var writes = 0

    /// Batches led and writes they carried since open: writes / batches is the sharing achieved.
    var counts: (batches: Int, writes: Int) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return (batches, writes)
    }

    init(maxBatch: Int = 64) {
        self.maxBatch = maxBatch
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Queues `entry` and returns once it is committed, by this thread leading a batch through
    /// `commit` or by another thread's batch. `commit` must settle every entry it is handed
    /// (`failure` set or not) and never throw.
    func submit(_ entry: Entry, commit: ([Entry]) -> Void) {
        pthread_mutex_lock(mutex)
        queue.append(entry)
        while !entry.done {
            if leading {
                pthread_cond_wait(condition, mutex)
                continue
            }
            leading = true
            let batch = Array(queue.prefix(maxBatch))
            queue.removeFirst(batch.count)
            pthread_mutex_unlock(mutex)
            commit(batch)
            pthread_mutex_lock(mutex)
            for settled in batch { settled.done = true }
            batches += 1
            writes += batch.count
            leading = false
            pthread_cond_broadcast(condition)
        }
        pthread_mutex_unlock(mutex)
    }
}

extension LMDBStore {
    /// A write that shares its transaction and commit with the writes other threads submit
    /// meanwhile (see `GroupCommit`). `body` runs in that shared transaction, after the writes
    /// queued before it; it must decide from what it reads, since it may run twice.
    func groupWrite<T>(
        sweepingAt now: @autoclosure () -> Timestamp, _ body: (borrowing Transaction) throws(StoreError) -> T
    ) throws(StoreError) -> T {
        guard let group = groupCommit else { return try write(sweepingAt: now(), body) }
        var result: T?
        let failure: StoreError? = withoutActuallyEscaping(body) { body in
            let entry = GroupCommit.Entry { txn throws(StoreError) in result = try body(txn) }
            group.submit(entry) { batch in self.commit(batch, now: now()) }
            return entry.failure
        }
        if let failure { throw failure }
        return result!
    }

    /// Runs a batch in one write transaction. A write whose record is corrupt fails alone (it
    /// has written nothing: records are read before anything is written). Any other failure
    /// ends the transaction for all, and each write then runs in a transaction of its own,
    /// where `MDB_MAP_FULL` is handled as for a single write.
    private func commit(_ batch: [GroupCommit.Entry], now: Timestamp) {
        if batch.count > 1 {
            keepHeadroom(now: now)
            do throws(StoreError) {
                try withTransaction(readOnly: false) { txn throws(StoreError) in
                    for entry in batch {
                        do throws(StoreError) {
                            try entry.body(txn)
                        } catch {
                            guard case .corrupt = error else { throw error }
                            entry.failure = error
                        }
                    }
                }
                return
            } catch {
                for entry in batch { entry.failure = nil }
            }
        }
        for entry in batch {
            do throws(StoreError) {
                try write(sweepingAt: now) { txn throws(StoreError) in try entry.body(txn) }
            } catch {
                entry.failure = error
            }
        }
    }
}
