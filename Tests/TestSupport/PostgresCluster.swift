import Foundation
import PostgresStore
import Synchronization

/// Data directories of clusters still running, stopped when the test process exits (the
/// shared cluster is a static and never deinitialized).
private let runningClusters = Mutex<Set<String>>([])

private func stopRunningClusters() {
    for data in runningClusters.withLock({ $0 }) {
        try? PostgresCluster.run(
            "/usr/sbin/runuser",
            ["-u", "postgres", "--", PostgresCluster.binaries + "/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"])
    }
}

/// A real PostgreSQL 15 cluster (initdb as the `postgres` user, which initdb and postgres
/// require) in a temporary directory, on 127.0.0.1:<free port> and a unix socket there, trust
/// auth, `fsync` on. `shared` serves the whole test process, with a fresh migrated database for
/// each stack that asks; a suite that stops its server makes its own.
public final class PostgresCluster: @unchecked Sendable {
    public let directory = TemporaryDirectory("idem-pgcluster")
    public let port = HTTPClient.freePort()
    private let lock = NSLock()
    private var databases: [String: String] = [:]
    private let created = Atomic<Int>(0)
    public var dataDirectory: String { directory.file("data") }

    public static let shared: PostgresCluster = {
        do { return try PostgresCluster() } catch { fatalError("cannot start PostgreSQL: \(error)") }
    }()

    static let binaries = "/usr/lib/postgresql/15/bin"

    public init() throws {
        try Self.run("/bin/chown", ["-R", "postgres:postgres", directory.path])
        try asPostgres(
            Self.binaries + "/initdb",
            ["-D", directory.file("data"), "--auth=trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
        try start()
        runningClusters.withLock { $0.insert(directory.file("data")) }
        atexit { stopRunningClusters() }
    }

    /// `pg_ctl start -w`.
    public func start() throws {
        let options = "-k \(directory.path) -p \(port) -c listen_addresses=127.0.0.1"
        try asPostgres(
            Self.binaries + "/pg_ctl",
            ["-D", directory.file("data"), "-l", directory.file("log"), "-w", "-t", "30", "-o", options, "start"])
    }

    /// `pg_ctl stop -m fast`: sessions are cut, as in an outage or failover.
    public func stop() throws {
        try asPostgres(Self.binaries + "/pg_ctl", ["-D", directory.file("data"), "-m", "fast", "-w", "stop"])
    }

    deinit {
        try? asPostgres(Self.binaries + "/pg_ctl", ["-D", directory.file("data"), "-m", "immediate", "-w", "stop"])
        _ = runningClusters.withLock { $0.remove(directory.file("data")) }
    }

    /// The connection string of a migrated database of its own; the same `owner` (a state
    /// directory two stacks share) gets the same database.
    public func connection(for owner: String) -> String {
        lock.lock()
        defer { lock.unlock() }
        if let existing = databases[owner] { return existing }
        do {
            let connection = try makeDatabase()
            try PostgresStore.migrate(connection: connection)
            databases[owner] = connection
            return connection
        } catch {
            fatalError("cannot create a database for \(owner): \(error)")
        }
    }

    /// A new empty database (no Idem schema yet); its connection string.
    public func makeDatabase() throws -> String {
        let name = "idem_t\(created.wrappingAdd(1, ordering: .relaxed).newValue)"
        try asPostgres(
            "/usr/bin/psql",
            ["-h", directory.path, "-p", String(port), "-U", "postgres", "-qc", "CREATE DATABASE \(name)"])
        return connection(database: name)
    }

    public func connection(database: String) -> String {
        "host=127.0.0.1 port=\(port) user=postgres dbname=\(database)"
    }

    private func asPostgres(_ path: String, _ arguments: [String]) throws {
        try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", path] + arguments)
    }

    /// Runs a tool to completion with `posix_spawn` + `waitpid`. Foundation's `Process` is not
    /// used here: inside the lazily created shared cluster its exit notification can be lost
    /// (the child stays a zombie). Output goes to a file, not a pipe: `pg_ctl start` leaves the
    /// server running with the tool's descriptors, and a pipe would never reach EOF.
    static func run(_ executable: String, _ arguments: [String]) throws {
        let log = TemporaryDirectory("idem-pgtool")
        let outPath = log.file("out")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw IdemStack.StartFailure(description: "cannot run \(executable): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            let text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
            throw IdemStack.StartFailure(description: "\(executable) \(arguments.joined(separator: " ")): \(text)")
        }
    }
}
