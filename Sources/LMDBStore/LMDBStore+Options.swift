import CLMDB

extension LMDBStore {
    /// How an environment is opened; every knob has a default that suits one VPS.
    public struct Options: Sendable, Equatable {
        /// The largest the data file may grow (`mdb_env_set_mapsize`). Address space, not RAM: 1 GiB.
        public var mapSizeBytes: Int = 1 << 30
        /// What a commit waits for before returning.
        public var durability: Durability = .full
        /// Concurrent read transactions across every process sharing the file (`mdb_env_set_maxreaders`).
        public var maxReaders: Int = 126
        /// Free space the file system must keep for completions of running requests: below it,
        /// new claims are refused (503) instead of running a handler whose response could not
        /// be stored.
        public var diskReserveBytes: Int = 8 << 20
        /// Concurrent writes of one process share a transaction and its commit (`GroupCommit`).
        /// Off only to measure one transaction per write.
        public var groupCommit = true

        public init(
            mapSizeBytes: Int = 1 << 30, durability: Durability = .full, maxReaders: Int = 126,
            diskReserveBytes: Int = 8 << 20, groupCommit: Bool = true
        ) {
            self.mapSizeBytes = mapSizeBytes
            self.durability = durability
            self.maxReaders = maxReaders
            self.diskReserveBytes = diskReserveBytes
            self.groupCommit = groupCommit
        }
    }

    /// What a commit survives. `kill -9` of a process loses nothing committed in any mode;
    /// these differ only on power failure or kernel crash.
    public enum Durability: String, Sendable, Equatable, CaseIterable {
        /// Every commit syncs data and meta page: a committed claim survives power loss.
        case full
        /// `MDB_NOMETASYNC`: the meta page is synced with the next commit, so power loss may undo
        /// the last transaction; the database stays consistent.
        case metaAsync
        /// `MDB_NOSYNC`: the OS writes back when it likes; power loss may undo recent transactions
        /// (consistent unless the file system reorders writes).
        case noSync

        var flags: UInt32 {
            switch self {
            case .full: return 0
            case .metaAsync: return UInt32(MDB_NOMETASYNC)
            case .noSync: return UInt32(MDB_NOSYNC)
            }
        }
    }
}
