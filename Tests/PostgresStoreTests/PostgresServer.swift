import Foundation
import Idempotency
import Synchronization
import TestSupport

@testable import PostgresStore

/// A throwaway PostgreSQL 15 cluster for one suite: `initdb` in a temporary directory owned by
/// the `postgres` user (initdb and postgres refuse root), listening on 127.0.0.1:<free port>
/// and a unix socket in that directory, trust auth, `fsync=on`. Stopped when released.
final class PostgresServer: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible { let description: String }

    static let binaries = "/usr/lib/postgresql/15/bin"
    let directory = TemporaryDirectory("idem-pg")
    let port = HTTPClient.freePort()
    var dataDirectory: String { directory.file("data") }
    private let databases = Atomic<Int>(0)

    init() throws {
        try Self.run("/bin/chown", ["-R", "postgres:postgres", directory.path])
        try asPostgres(
            "initdb", ["-D", dataDirectory, "--auth=trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
        try start()
        Self.running.withLock { $0.insert(dataDirectory) }
        Self.stopAtExit
    }

    deinit {
        try? Self.stop(dataDirectory)
        _ = Self.running.withLock { $0.remove(dataDirectory) }
    }

    /// Data directories of servers still running; the shared server is never released, so
    /// an `atexit` hook stops what is left when the test process ends.
    private static let running = Mutex<Set<String>>([])
    private static let stopAtExit: Void = {
        atexit {
            for directory in PostgresServer.running.withLock({ $0 }) { try? PostgresServer.stop(directory) }
        }
    }()

    private static func stop(_ dataDirectory: String) throws {
        try run(
            "/usr/sbin/runuser",
            ["-u", "postgres", "--", binaries + "/pg_ctl", "-D", dataDirectory, "-m", "immediate", "-w", "stop"])
    }

    /// `pg_ctl start -w`.
    func start() throws {
        let options = "-k \(directory.path) -p \(port) -c listen_addresses=127.0.0.1 -c fsync=on"
        try asPostgres(
            "pg_ctl", ["-D", dataDirectory, "-l", directory.file("log"), "-w", "-t", "30", "-o", options, "start"])
    }

    /// `pg_ctl stop -m fast -w`: sessions are terminated, as in a restart or failover.
    func stop() throws { try asPostgres("pg_ctl", ["-D", dataDirectory, "-m", "fast", "-w", "stop"]) }

    func connection(database: String) -> String {
        "host=127.0.0.1 port=\(port) user=postgres dbname=\(database)"
    }

    /// A new empty database (no Idem schema); its connection string.
    func makeDatabase() throws -> String {
        let name = "idem_t\(databases.wrappingAdd(1, ordering: .relaxed).newValue)"
        try asPostgres(
            "psql", ["-h", directory.path, "-p", String(port), "-U", "postgres", "-qc", "CREATE DATABASE \(name)"])
        return connection(database: name)
    }

    /// A new database, migrated, and a store on it.
    func makeStore(poolSize: Int = 4, clock: any WallClock = SystemClock()) throws -> PostgresStore {
        let connection = try makeDatabase()
        try Self.migrateFresh(connection)
        return try PostgresStore(connection: connection, poolSize: poolSize, clock: clock)
    }

    /// `migrate` on a database `init` would refuse, as `idemctl migrate` does.
    static func migrateFresh(_ connection: String) throws {
        try PostgresStore.migrate(connection: connection)
    }

    private func asPostgres(_ tool: String, _ arguments: [String]) throws {
        let path = tool == "psql" ? "/usr/bin/psql" : Self.binaries + "/" + tool
        try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", path] + arguments)
    }

    /// `posix_spawn` + `waitpid`, output to a file. Not `Process`: it detects the end of a child
    /// by EOF on a descriptor the child inherits, which the server `pg_ctl start` leaves running
    /// keeps open, so `waitUntilExit` never returns.
    private static func run(_ executable: String, _ arguments: [String]) throws {
        let log = TemporaryDirectory("idem-pg-cmd")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.file("out"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard rc == 0 else { throw Failure(description: "posix_spawn \(executable): \(rc)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            let text = (try? String(contentsOfFile: log.file("out"), encoding: .utf8)) ?? ""
            throw Failure(description: "\(executable) \(arguments.joined(separator: " ")): \(text)")
        }
    }
}

/// A store key per test name, so records never collide.
func key(_ name: String) -> StoreKey { scope(name).storeKey }

func scope(_ name: String) -> Scope {
    Scope(principal: "", method: "POST", route: "/pg", key: IdempotencyKey(unchecked: name))
}

/// An in-progress claim made at `now`, as the inbound policy builds it.
func claimRecord(
    _ name: String, at now: Timestamp, ttlMs: Int64 = 86_400_000, leaseMs: Int64 = 60_000, token: ClaimToken = .random()
) -> IdempotencyRecord {
    IdempotencyRecord(
        state: .inProgress, fingerprint: Fingerprint(bytes: [UInt8](repeating: 7, count: Fingerprint.byteCount)),
        createdAt: now, expiresAt: now + ttlMs, leaseUntil: now + leaseMs, token: token, attempt: 1, response: nil,
        scope: scope(name), owner: "test-owner")
}

/// The completed form of `claim`, as the outbound policy builds it at `now`.
func completed(_ claim: IdempotencyRecord, at now: Timestamp, ttlMs: Int64 = 86_400_000, body: [UInt8])
    -> IdempotencyRecord
{
    var done = claim
    done.state = .complete
    done.expiresAt = now + ttlMs
    done.leaseUntil = now
    done.response = StoredResponse(
        status: 201, headers: [("Content-Type", "application/json"), ("Location", "/payments/1")], body: body)
    return done
}

/// Milliseconds taken by `body` (monotonic).
func elapsedMs(_ body: () throws -> Void) rethrows -> Int64 {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Int64((DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)
}

/// The `StoreError` `body` threw, or nil.
func storeError(_ body: () throws(StoreError) -> Void) -> StoreError? {
    do throws(StoreError) {
        try body()
        return nil
    } catch {
        return error
    }
}
