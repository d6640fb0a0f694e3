import CLMDB
import Glibc
import Idempotency

/// What `openEnvironment` hands back to `init`.
struct OpenedEnvironment: @unchecked Sendable {
    let env: OpaquePointer
    let databases: Databases
    let fileID: FileID
}

extension LMDBStore {
    static let databaseCount: UInt32 = 3

    /// `mdb_env_create`, `mdb_env_set_mapsize`/`maxreaders`/`maxdbs`, `mdb_env_open`
    /// (`MDB_NOSUBDIR | MDB_NOTLS`, never `MDB_WRITEMAP`: a full disk would then be SIGBUS),
    /// `mdb_reader_check`, then the databases. On failure the environment is closed.
    static func openEnvironment(path: String, options: Options) throws(StoreError) -> OpenedEnvironment {
        var created: OpaquePointer?
        try lmdbCheck(mdb_env_create(&created), "mdb_env_create")
        guard let env = created else { throw .unavailable("mdb_env_create: no environment") }
        do throws(StoreError) {
            guard options.mapSizeBytes > 0, options.maxReaders > 0 else {
                throw StoreError.unavailable("mapSizeBytes and maxReaders must be positive")
            }
            try lmdbCheck(mdb_env_set_mapsize(env, options.mapSizeBytes), "mdb_env_set_mapsize")
            try lmdbCheck(mdb_env_set_maxreaders(env, UInt32(clamping: options.maxReaders)), "mdb_env_set_maxreaders")
            try lmdbCheck(mdb_env_set_maxdbs(env, databaseCount), "mdb_env_set_maxdbs")
            let flags = UInt32(MDB_NOSUBDIR) | UInt32(MDB_NOTLS) | options.durability.flags
            let rc = mdb_env_open(env, path, flags, fileMode)
            if rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH {
                throw StoreError.unavailable(
                    "not an LMDB file this build can open, left unchanged (mdb_env_open: \(lmdbMessage(rc)))")
            }
            try lmdbCheck(rc, "mdb_env_open")
            try checkNotTruncated(env)
            var dead: Int32 = 0
            try lmdbCheck(mdb_reader_check(env, &dead), "mdb_reader_check")
            let databases = try openDatabases(env)
            var fd: Int32 = -1
            try lmdbCheck(mdb_env_get_fd(env, &fd), "mdb_env_get_fd")
            guard let fileID = FileID(descriptor: fd) else { throw StoreError.unavailable("fstat failed") }
            return OpenedEnvironment(env: env, databases: databases, fileID: fileID)
        } catch {
            mdb_env_close(env)
            switch error {
            case .unavailable(let m): throw .unavailable("\(path): \(m)")
            case .full(let m): throw .full("\(path): \(m)")
            case .corrupt(let m): throw .corrupt("\(path): \(m)")
            }
        }
    }

    /// A file shorter than its own header says (cut by a bad copy or a full disk) would be read
    /// past its end through the map: SIGBUS. `mdb_env_info` reads only the meta pages, so the
    /// check happens before any other page is touched.
    static func checkNotTruncated(_ env: OpaquePointer) throws(StoreError) {
        var info = MDB_envinfo()
        try lmdbCheck(mdb_env_info(env, &info), "mdb_env_info")
        var st = MDB_stat()
        try lmdbCheck(mdb_env_stat(env, &st), "mdb_env_stat")
        var fd: Int32 = -1
        try lmdbCheck(mdb_env_get_fd(env, &fd), "mdb_env_get_fd")
        var file = stat()
        guard fstat(fd, &file) == 0 else { throw .unavailable("fstat failed") }
        let needed = (Int(info.me_last_pgno) + 1) * Int(st.ms_psize)
        guard Int(file.st_size) >= needed else {
            throw .unavailable(
                "truncated: the file has \(file.st_size) bytes but its header needs \(needed); restore it from a "
                    + "backup or move it aside (records in it are lost), then start again")
        }
    }

    /// One write transaction that checks the file is ours before creating anything: a file
    /// whose main database holds other entries, or whose format differs, is refused and the
    /// transaction aborted, so the file is not modified.
    private static func openDatabases(_ env: OpaquePointer) throws(StoreError) -> Databases {
        var begun: OpaquePointer?
        try lmdbCheck(mdb_txn_begin(env, nil, 0, &begun), "mdb_txn_begin")
        guard let handle = begun else { throw .unavailable("mdb_txn_begin: no transaction") }
        let databases: Databases
        do throws(StoreError) {
            let txn = Transaction(handle: handle)
            let format = try existingFormat(txn)
            databases = Databases(
                records: try openDatabase(txn, "records"), expiry: try openDatabase(txn, "expiry"),
                meta: try openDatabase(txn, "meta"))
            if format == nil {
                try txn.put(databases.meta, Array("format".utf8), Array(formatName.utf8))
            }
        } catch {
            mdb_txn_abort(handle)
            throw error
        }
        // mdb_txn_commit frees the transaction even when it fails: no abort after it.
        try lmdbCheck(mdb_txn_commit(handle), "mdb_txn_commit")
        return databases
    }

    /// The stored format name, nil for a fresh file; throws for a file that is not ours.
    private static func existingFormat(_ txn: borrowing Transaction) throws(StoreError) -> String? {
        var main: MDB_dbi = 0
        try lmdbCheck(mdb_dbi_open(txn.handle, nil, 0, &main), "mdb_dbi_open")
        var meta: MDB_dbi = 0
        let rc = mdb_dbi_open(txn.handle, "meta", 0, &meta)
        if rc == MDB_NOTFOUND {
            guard try txn.count(main) == 0 else {
                throw .unavailable("an LMDB file without Idem's \"meta\" database; refusing to modify it")
            }
            return nil
        }
        if rc == MDB_INCOMPATIBLE { throw .unavailable("an LMDB file of another layout; refusing to modify it") }
        try lmdbCheck(rc, "mdb_dbi_open")
        guard let bytes = try txn.get(meta, Array("format".utf8)) else {
            var records: MDB_dbi = 0
            let found = mdb_dbi_open(txn.handle, "records", 0, &records)
            if found == MDB_NOTFOUND { return nil }
            try lmdbCheck(found, "mdb_dbi_open")
            guard try txn.count(records) == 0 else {
                throw .unavailable("records present but no format marker; refusing to modify it")
            }
            return nil
        }
        let format = String(decoding: bytes, as: UTF8.self)
        guard format == formatName else {
            throw .unavailable("store format \"\(format)\", this build reads \"\(formatName)\"; refusing to modify it")
        }
        return format
    }

    /// `mdb_dbi_open(MDB_CREATE)`.
    private static func openDatabase(_ txn: borrowing Transaction, _ name: String) throws(StoreError) -> MDB_dbi {
        var dbi: MDB_dbi = 0
        try lmdbCheck(mdb_dbi_open(txn.handle, name, UInt32(MDB_CREATE), &dbi), "mdb_dbi_open")
        return dbi
    }
}
