import CLibpq
import Glibc
import Idempotency

/// One libpq connection (`PGconn`) in non-blocking mode, so every wait is a `poll` with a deadline.
///
/// `@unchecked Sendable`: a connection is used by one thread at a time; it moves between
/// threads only through `ConnectionPool`'s lock. `PQfinish` in `deinit` is its only releaser.
final class Connection: @unchecked Sendable {
    private let handle: OpaquePointer
    /// Statements already prepared on this session (`PQsendPrepare`).
    private var prepared: Set<Statement> = []
    /// Set after a connection-level failure (or a timed-out wait); the pool then drops it.
    private(set) var broken = false
    /// The client-side bound on one round trip: the server's `statement_timeout` should fire first.
    private let answerTimeoutMs: Int64

    /// `PQconnectdbParams` (blocking, bounded by libpq's `connect_timeout`), then
    /// `PQsetnonblocking` and `statement_timeout` (with `client_min_messages`). `keywords` come first so that the
    /// caller's connection string (expanded from `dbname`) overrides them.
    init(connection: String, keywords: [(String, String)], statementTimeoutMs: Int) throws(StoreError) {
        let pairs = keywords + [("dbname", connection)]
        let names = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer {
            names.forEach { free($0) }
            values.forEach { free($0) }
        }
        let conn = (names.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { k in
            (values.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { v in
                PQconnectdbParams(k.baseAddress, v.baseAddress, 1)
            }
        }
        guard let conn else { throw .unavailable("PostgreSQL connect: out of memory") }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = Self.message(PQerrorMessage(conn))
            PQfinish(conn)
            throw .unavailable("PostgreSQL connect: \(message)")
        }
        handle = conn
        answerTimeoutMs = Int64(statementTimeoutMs) + 1000
        guard PQsetnonblocking(conn, 1) == 0 else {
            throw .unavailable("PQsetnonblocking: \(Self.message(PQerrorMessage(conn)))")
        }
        // Notices (e.g. "already exists, skipping") would go to stderr through libpq's default processor.
        _ = try execute(
            "SELECT set_config('statement_timeout', $1, false), set_config('client_min_messages', 'warning', false)",
            [.bytes(Array(String(statementTimeoutMs).utf8))])
    }

    deinit { PQfinish(handle) }

    /// Whether an idle pooled connection may be reused: a server that restarted or closed the
    /// session has left EOF (and usually a FATAL message) on the socket, which `PQconsumeInput`
    /// turns into `CONNECTION_BAD` without sending anything.
    var looksAlive: Bool {
        guard !broken, PQstatus(handle) == CONNECTION_OK else { return false }
        var p = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        if poll(&p, 1, 0) > 0, PQconsumeInput(handle) == 0 { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// `PQsendQueryPrepared` of `statement` (prepared on first use), binary parameters and results.
    func run(_ statement: Statement, _ params: [Param]) throws(StoreError) -> QueryResult {
        let deadline = monotonicMs() + answerTimeoutMs
        if !prepared.contains(statement) {
            let types = statement.parameterTypes
            let sent = types.withUnsafeBufferPointer { t in
                PQsendPrepare(handle, statement.rawValue, statement.sql, Int32(t.count), t.baseAddress)
            }
            _ = try collect(sent, what: "prepare \(statement.rawValue)", deadline: deadline)
            prepared.insert(statement)
        }
        let sent = Param.withCArrays(params) { n, values, lengths, formats in
            PQsendQueryPrepared(handle, statement.rawValue, n, values, lengths, formats, 1)
        }
        return try collect(sent, what: statement.rawValue, deadline: deadline)
    }

    /// `PQsendQueryParams` of one unprepared statement (schema checks and migrations).
    func execute(_ sql: String, _ params: [Param]) throws(StoreError) -> QueryResult {
        let deadline = monotonicMs() + answerTimeoutMs
        let sent = Param.withCArrays(params) { n, values, lengths, formats in
            PQsendQueryParams(handle, sql, n, nil, values, lengths, formats, 1)
        }
        return try collect(sent, what: String(sql.prefix(40)), deadline: deadline)
    }

    /// Flushes what `PQsend*` queued and collects its result, waiting at most until `deadline`
    /// (`PQflush`, `PQconsumeInput`, `PQisBusy`, `PQgetResult`). The first result is kept; a
    /// failed one becomes a `StoreError` via `PostgresError`.
    private func collect(_ sent: Int32, what: String, deadline: Int64) throws(StoreError) -> QueryResult {
        guard sent == 1 else { throw connectionFailure(what) }
        while true {
            let flushed = PQflush(handle)
            if flushed == 0 { break }
            if flushed < 0 { throw connectionFailure(what) }
            let ready = try wait(Int16(POLLOUT | POLLIN), what: what, deadline: deadline)
            if ready & Int16(POLLIN) != 0, PQconsumeInput(handle) == 0 { throw connectionFailure(what) }
        }
        var first: QueryResult?
        while true {
            while PQisBusy(handle) != 0 {
                _ = try wait(Int16(POLLIN), what: what, deadline: deadline)
                if PQconsumeInput(handle) == 0 { throw connectionFailure(what) }
            }
            guard let result = PQgetResult(handle) else { break }
            if first == nil { first = QueryResult(result) } else { PQclear(result) }
        }
        guard let first else { throw connectionFailure(what) }
        if let error = PostgresError(first, what: what) {
            if error.isConnectionLevel || PQstatus(handle) != CONNECTION_OK { broken = true }
            throw error.storeError
        }
        return first
    }

    /// `poll` on `PQsocket` until `events` or `deadline`; a timeout breaks the connection, since
    /// its protocol state is unknown (the server cancels the statement when the socket closes).
    private func wait(_ events: Int16, what: String, deadline: Int64) throws(StoreError) -> Int16 {
        var p = pollfd(fd: PQsocket(handle), events: events, revents: 0)
        while true {
            let remaining = deadline - monotonicMs()
            if remaining <= 0 {
                broken = true
                throw .unavailable("PostgreSQL: no answer to \(what) within \(answerTimeoutMs) ms")
            }
            let n = poll(&p, 1, Int32(min(remaining, 60_000)))
            if n > 0 { return p.revents }
            if n < 0 && errno != EINTR {
                broken = true
                throw .unavailable("PostgreSQL: poll: errno \(errno)")
            }
        }
    }

    private func connectionFailure(_ what: String) -> StoreError {
        broken = true
        return .unavailable("PostgreSQL connection lost during \(what): \(Self.message(PQerrorMessage(handle)))")
    }

    static func message(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "unknown error" }
        let s = String(cString: text)
        return s.isEmpty ? "unknown error" : s.split(separator: "\n").joined(separator: "; ")
    }
}

/// `CLOCK_MONOTONIC` in milliseconds, for deadlines (never stored).
func monotonicMs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
