import Idempotency

extension PostgresStore {
    /// Creates the tables, or brings them to `schemaVersion`, in one transaction under an
    /// advisory lock (so two `idemctl migrate` runs cannot race). Safe to run again.
    /// A database of a newer version is refused and left untouched.
    public func migrate() throws(StoreError) {
        try pool.withConnection { c throws(StoreError) in
            _ = try c.execute("BEGIN", [])
            do throws(StoreError) {
                _ = try c.execute("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", [])
                _ = try c.execute(
                    """
                    CREATE TABLE IF NOT EXISTS idem_schema (
                        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                        version integer NOT NULL)
                    """, [])
                let found = try c.execute("SELECT version FROM idem_schema", [])
                let version = found.rows == 0 ? 0 : Int(found.integer(0, 0) ?? 0)
                if version > Self.schemaVersion {
                    throw .unavailable(
                        "PostgreSQL schema version \(version) is newer than this Idem's (\(Self.schemaVersion)): "
                            + "upgrade Idem")
                }
                for statement in Self.migrations.dropFirst(version).joined() { _ = try c.execute(statement, []) }
                _ = try c.execute(
                    """
                    INSERT INTO idem_schema (version) VALUES ($1) ON CONFLICT (singleton) DO UPDATE SET version = $1
                    """, [.int32(Int32(Self.schemaVersion))])
                _ = try c.execute("COMMIT", [])
            } catch {
                _ = try? c.execute("ROLLBACK", [])
                throw error
            }
        }
    }

    /// Step `i` brings version `i` to `i + 1`. Never edit a shipped step: append one.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE IF NOT EXISTS idem_records (
                store_key   bytea PRIMARY KEY,
                record      bytea NOT NULL,
                state       smallint NOT NULL,
                token       bytea NOT NULL,
                attempt     integer NOT NULL,
                created_at  timestamptz NOT NULL,
                expires_at  timestamptz NOT NULL,
                lease_until timestamptz NOT NULL)
            """,
            "CREATE INDEX IF NOT EXISTS idem_records_expires_at ON idem_records (expires_at)",
        ]
    ]

    /// `pg_advisory_xact_lock` key of migrations ("idem" in ASCII).
    static let migrationLock = 0x6964_656D

    /// Refuses a database without the schema, or with another version of it.
    func checkSchema() throws(StoreError) {
        let version = try pool.withConnection { c throws(StoreError) -> Int? in
            let exists = try c.execute("SELECT to_regclass('idem_schema') IS NOT NULL", [])
            guard exists.integer(0, 0) == 1 else { return nil }
            let found = try c.execute("SELECT version FROM idem_schema", [])
            return found.rows == 0 ? nil : found.integer(0, 0).map { Int($0) }
        }
        guard let version else {
            throw .unavailable("PostgreSQL database has no Idem schema (table idem_schema): run `idemctl migrate`")
        }
        guard version == Self.schemaVersion else {
            throw .unavailable(
                "PostgreSQL schema version \(version), this Idem needs \(Self.schemaVersion): "
                    + (version < Self.schemaVersion ? "run `idemctl migrate`" : "upgrade Idem"))
        }
    }
}
