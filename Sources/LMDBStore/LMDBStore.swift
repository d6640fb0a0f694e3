import CLMDB
import Glibc
import Idempotency
import Synchronization

/// The shared store: one memory-mapped LMDB file that every responder process and `idemctl`
/// open together. Each primitive is one write transaction; LMDB serializes writers across
/// processes, so a claim is atomic machine-wide.
///
/// Open it after start-up and after any `fork()`: an LMDB environment must never be inherited
/// by a child process, and a process opens a given file at most once (a second `LMDBStore` on
/// the same file in one process is refused, because closing either would drop the other's
/// POSIX locks).
///
/// `@unchecked Sendable` because the state it shares is safe by construction: LMDB's
/// `MDB_env` is thread-safe for beginning transactions; with `MDB_NOTLS` a read transaction
/// is not tied to a thread-local slot; every transaction here begins, is used and ends inside
/// one call on one thread; the database handles are fixed at open; and the only mutable field,
/// `environment`, is read under a shared lock and cleared by `close()` under the exclusive one.
public final class LMDBStore: IdempotencyStore, @unchecked Sendable {
    /// The data file; its lock file is `path + "-lock"`.
    public let path: String
    public let options: Options
    /// The directory holding the file, for free-space checks.
    let directory: String
    let clock: any WallClock
    let databases: Databases
    private let fileID: FileID
    private var environment: OpaquePointer?
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>
    /// Batches this process's concurrent writes into shared commits; nil when turned off.
    let groupCommit: GroupCommit?

    /// The value stored under "format" in the "meta" database; another value is refused.
    public static let formatName = "idem-lmdb-1"
    /// Data and lock files are created owner-only: the responders and `idemctl` run as one
    /// service user, and a record holds scopes and response bodies.
    public static let fileMode: mode_t = 0o600

    /// Opens (creating if absent) the store at `path`, a file in an existing directory.
    /// A file that is not LMDB, or an LMDB file of another format, is refused and left untouched.
    /// `clock` supplies "now" for the sweep that follows `MDB_MAP_FULL` in complete/release.
    public init(path: String, options: Options = .init(), clock: any WallClock = SystemClock()) throws(StoreError) {
        let opened = try openFiles.withLock { (files: inout Set<FileID>) throws(StoreError) -> OpenedEnvironment in
            if let existing = FileID(path: path), files.contains(existing) {
                throw .unavailable("\(path): already open in this process; share one LMDBStore per file")
            }
            let opened = try Self.openEnvironment(path: path, options: options)
            files.insert(opened.fileID)
            return opened
        }
        self.path = path
        self.directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        self.options = options
        self.clock = clock
        self.environment = opened.env
        self.databases = opened.databases
        self.fileID = opened.fileID
        self.lock = .allocate(capacity: 1)
        pthread_rwlock_init(lock, nil)
        self.groupCommit = options.groupCommit ? GroupCommit() : nil
    }

    /// Flushes (when commits do not sync) and closes the environment (`mdb_env_close`).
    /// Waits for operations in flight; later calls throw `.unavailable`. Idempotent.
    public func close() {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        guard let env = environment else { return }
        if options.durability != .full { _ = mdb_env_sync(env, 1) }
        mdb_env_close(env)
        environment = nil
        _ = openFiles.withLock { $0.remove(fileID) }
    }

    deinit {
        close()
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    /// `mdb_env_sync(force)`: writes committed data to disk now; for `.metaAsync`/`.noSync`
    /// a caller may run it periodically to bound what power loss can undo.
    public func sync() throws(StoreError) {
        try withOpenEnvironment { env throws(StoreError) in try lmdbCheck(mdb_env_sync(env, 1), "mdb_env_sync") }
    }

    /// `mdb_reader_check`: frees reader slots left by processes that died mid-read (each
    /// slot otherwise pins old pages). Runs at open; a long-running server also runs it
    /// periodically. Returns how many slots were cleared.
    public func clearStaleReaders() throws(StoreError) -> Int {
        try withOpenEnvironment { env throws(StoreError) -> Int in
            var dead: Int32 = 0
            try lmdbCheck(mdb_reader_check(env, &dead), "mdb_reader_check")
            return Int(dead)
        }
    }

    /// `mdb_env_set_mapsize(0)`: takes the map size another process grew the file to. LMDB
    /// allows it only with no transaction active in this process, hence the exclusive lock.
    func adoptGrownMap() throws(StoreError) {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        guard let environment else { throw .unavailable("\(path): store is closed") }
        try lmdbCheck(mdb_env_set_mapsize(environment, 0), "mdb_env_set_mapsize")
    }

    /// `mdb_env_set_mapsize(bytes)`, with no transaction of this process active (exclusive
    /// lock). Other processes adopt the new size on their next transaction.
    func resizeMap(to bytes: Int) throws(StoreError) {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        guard let environment else { throw .unavailable("\(path): store is closed") }
        try lmdbCheck(mdb_env_set_mapsize(environment, bytes), "mdb_env_set_mapsize")
    }

    /// Runs `body` with the environment while holding the shared lock, so `close()` cannot
    /// free it underneath.
    func withOpenEnvironment<T>(_ body: (OpaquePointer) throws(StoreError) -> T) throws(StoreError) -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        guard let environment else { throw .unavailable("\(path): store is closed") }
        return try body(environment)
    }
}

/// The named databases of one environment (`MDB_dbi` handles, fixed once opened).
struct Databases: Sendable {
    /// Store key (33 bytes) → `RecordCodec` bytes.
    let records: MDB_dbi
    /// `ExpiryIndex` key → empty value.
    let expiry: MDB_dbi
    /// "format" → `LMDBStore.formatName`.
    let meta: MDB_dbi
}

/// A file's identity, to keep one environment per file per process.
struct FileID: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64

    init?(path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        self.init(st)
    }

    init?(descriptor: Int32) {
        var st = stat()
        guard fstat(descriptor, &st) == 0 else { return nil }
        self.init(st)
    }

    private init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
    }
}

/// Files this process has open as an `LMDBStore`.
private let openFiles = Mutex<Set<FileID>>([])
