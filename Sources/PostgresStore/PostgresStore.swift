import Idempotency

/// The shared store for several machines: one PostgreSQL table, `idem_records`, reached
/// through libpq by a small pool of connections.
///
/// Time: liveness is decided by the server's clock (`now()`), never by the responders'; the
/// record bytes keep the times the responder wrote, and the columns `expires_at` and
/// `lease_until` are the server's instants for the same durations. A record handed back is
/// made to agree with the server's verdict in the caller's clock (see `ServerTimes`).
///
/// Checked `Sendable` (no `@unchecked` here): all mutable state (the idle connections, the
/// closed flag) lives in `ConnectionPool` behind a `Mutex`, and the one unchecked claim is
/// `Connection`'s: a `PGconn` is used by one thread at a time, handed over through that lock.
public final class PostgresStore: InspectableStore {
    /// The `idem_schema` version this code reads and writes.
    public static let schemaVersion = 1
    /// Rows per `forEachRecord` query and per `sweep` statement.
    static let batchSize = 256

    let pool: ConnectionPool
    let clock: any WallClock

    /// Connects (one connection now, up to `poolSize` on demand) and checks the schema version;
    /// it never creates tables (`migrate()` does, through `idemctl migrate`).
    ///
    /// - `connection`: libpq's own syntax, `host=… dbname=…` or `postgresql://…`; its
    ///   settings override the defaults set here (connect timeout, TCP keepalives).
    /// - `statementTimeoutMs`: the server's `statement_timeout`; the client gives up on an
    ///   answer one second later and drops the connection.
    /// - `clock`: the responder's clock, to express the server's verdicts in records' times.
    public convenience init(
        connection: String, poolSize: Int = 4, statementTimeoutMs: Int = 5000, connectTimeoutSeconds: Int = 3,
        clock: any WallClock = SystemClock()
    ) throws(StoreError) {
        self.init(
            unchecked: connection, poolSize: poolSize, statementTimeoutMs: statementTimeoutMs,
            connectTimeoutSeconds: connectTimeoutSeconds, clock: clock)
        try checkSchema()
    }

    /// A store that has not looked at the schema yet (for `migrate(connection:)`); connects lazily.
    init(
        unchecked connection: String, poolSize: Int, statementTimeoutMs: Int, connectTimeoutSeconds: Int,
        clock: any WallClock
    ) {
        let keywords = [
            ("connect_timeout", String(max(connectTimeoutSeconds, 1))), ("keepalives", "1"),
            ("keepalives_idle", "10"), ("keepalives_interval", "3"), ("keepalives_count", "3"),
            ("application_name", "idem"),
        ]
        self.pool = ConnectionPool(
            size: max(poolSize, 1), slotWaitMs: statementTimeoutMs + 1000 + connectTimeoutSeconds * 1000
        ) { () throws(StoreError) -> Connection in
            try Connection(connection: connection, keywords: keywords, statementTimeoutMs: statementTimeoutMs)
        }
        self.clock = clock
    }

    /// `idemctl migrate`: creates or upgrades the schema of the database `connection` names,
    /// which `init` would refuse until then. Idempotent.
    public static func migrate(
        connection: String, statementTimeoutMs: Int = 60_000, connectTimeoutSeconds: Int = 3
    ) throws(StoreError) {
        let store = PostgresStore(
            unchecked: connection, poolSize: 1, statementTimeoutMs: statementTimeoutMs,
            connectTimeoutSeconds: connectTimeoutSeconds, clock: SystemClock())
        defer { store.close() }
        try store.migrate()
    }

    /// Closes the pooled connections (`PQfinish`); later calls throw `.unavailable`. Idempotent.
    public func close() { pool.close() }

    deinit { pool.close() }
}
