import CLMDB
import Idempotency

extension LMDBStore {
    /// How full the store is, for `idemctl` and metrics.
    public struct Stats: Sendable, Equatable {
        public var recordCount: Int
        public var pageSize: Int
        public var mapSizeBytes: Int
        /// Pages up to the file's high-water mark; pages freed inside it are reused before it grows.
        public var usedPages: Int
        /// Finished records deleted to make room after `MDB_MAP_FULL`, over the file's life.
        public var evictions: UInt64
        /// Pages on LMDB's freelist: inside the file, free for reuse.
        public var freelistPages: Int

        /// Bytes still available to records: the unused part of the map plus the freelist.
        public var freeBytes: Int { (mapSizeBytes / pageSize - usedPages + freelistPages) * pageSize }

        public var usedBytes: Int { usedPages * pageSize }
    }

    /// `mdb_stat` of "records" in a read transaction, then `mdb_env_info` and `mdb_env_stat`.
    public func stats() throws(StoreError) -> Stats {
        let (count, evictions) = try withTransaction(readOnly: true) { txn throws(StoreError) in
            (try txn.count(self.databases.records), try Self.counter(Self.evictionsKey, in: txn, self.databases))
        }
        let free = try freelistPages()
        return try withOpenEnvironment { env throws(StoreError) -> Stats in
            var info = MDB_envinfo()
            try lmdbCheck(mdb_env_info(env, &info), "mdb_env_info")
            var envStat = MDB_stat()
            try lmdbCheck(mdb_env_stat(env, &envStat), "mdb_env_stat")
            return Stats(
                recordCount: count, pageSize: Int(envStat.ms_psize), mapSizeBytes: info.me_mapsize,
                usedPages: info.me_last_pgno + 1, evictions: evictions, freelistPages: free)
        }
    }
}
