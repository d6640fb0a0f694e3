import CLMDB
import Idempotency

extension LMDBStore {
    /// Room kept free in the map so that deleting records never itself runs out of pages:
    /// 1/32 of the map, at least 32 pages.
    var headroomPages: Int { max(options.mapSizeBytes / 4096 / 32, 32) }

    /// Before a write: when the file has grown near the end of the map, counts the free pages
    /// (unused map plus LMDB's freelist) and, below the headroom, sweeps expired records and
    /// then evicts the oldest finished ones until twice the headroom is free. Cheap while the
    /// file is far from full (`mdb_env_info` only); errors are left to the write itself.
    func keepHeadroom(now: Timestamp) {
        guard let (_, mapPages, lastPage) = try? mapGeometry() else { return }
        let unused = mapPages - (lastPage + 1)
        guard unused < headroomPages * 2 else { return }
        for _ in 0..<64 {
            guard let free = try? freelistPages(), unused + free < headroomPages * 2 else { return }
            let expired = (try? sweepBatch(now: now, limit: Self.mapFullSweepLimit)) ?? 0
            let removed = expired > 0 ? expired : ((try? evictOldest(limit: Self.mapFullSweepLimit)) ?? 0)
            guard removed > 0 else { return }
            try? advanceTransactionID()
        }
    }

    /// `mdb_env_info` + `mdb_env_stat`: page size, pages in the map, last page in use.
    func mapGeometry() throws(StoreError) -> (pageSize: Int, mapPages: Int, lastPage: Int) {
        try withOpenEnvironment { env throws(StoreError) in
            var info = MDB_envinfo()
            try lmdbCheck(mdb_env_info(env, &info), "mdb_env_info")
            var st = MDB_stat()
            try lmdbCheck(mdb_env_stat(env, &st), "mdb_env_stat")
            let pageSize = Int(st.ms_psize)
            return (pageSize, info.me_mapsize / pageSize, info.me_last_pgno)
        }
    }

    /// Pages on LMDB's freelist (database 0, as `mdb_stat -f` reads it): each value is a
    /// list of page numbers whose first word is its length.
    func freelistPages() throws(StoreError) -> Int {
        try withTransaction(readOnly: true) { txn throws(StoreError) -> Int in
            var pages = 0
            try txn.scan(0) { _, value throws(StoreError) -> Bool in
                if value.count >= MemoryLayout<Int>.size {
                    pages += value.withUnsafeBytes { Int($0.loadUnaligned(as: UInt.self)) }
                }
                return true
            }
            return pages
        }
    }
}
