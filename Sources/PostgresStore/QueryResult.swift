import CLibpq
import Idempotency

/// A `PGresult` in binary format; `PQclear` in `deinit` is its only releaser.
struct QueryResult: ~Copyable {
    let handle: OpaquePointer

    init(_ handle: OpaquePointer) { self.handle = handle }

    deinit { PQclear(handle) }

    /// `PQntuples`.
    var rows: Int { Int(PQntuples(handle)) }

    /// `PQcmdTuples`: rows inserted, updated or deleted.
    var affectedRows: Int {
        guard let text = PQcmdTuples(handle) else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    /// `PQgetisnull`.
    func isNull(_ row: Int, _ column: Int) -> Bool { PQgetisnull(handle, Int32(row), Int32(column)) == 1 }

    /// A `bytea` value (`PQgetvalue`, `PQgetlength`); nil when NULL.
    func bytes(_ row: Int, _ column: Int) -> [UInt8]? {
        guard !isNull(row, column), let value = PQgetvalue(handle, Int32(row), Int32(column)) else { return nil }
        let count = Int(PQgetlength(handle, Int32(row), Int32(column)))
        return value.withMemoryRebound(to: UInt8.self, capacity: count) {
            Array(UnsafeBufferPointer(start: $0, count: count))
        }
    }

    /// A binary `int2`, `int4`, `int8` or `bool` value (big-endian); nil when NULL.
    func integer(_ row: Int, _ column: Int) -> Int64? {
        guard let b = bytes(row, column), !b.isEmpty else { return nil }
        let unsigned = b.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let shift = UInt64(64 - 8 * b.count)
        return Int64(bitPattern: unsigned << shift) >> Int64(shift)  // sign-extend
    }
}

/// A failed `PGresult`: its SQLSTATE and message, and what it means for the connection.
struct PostgresError {
    let sqlState: String
    let message: String
    let what: String

    /// nil when `result` succeeded (`PGRES_COMMAND_OK`, `PGRES_TUPLES_OK`).
    init?(_ result: borrowing QueryResult, what: String) {
        let status = PQresultStatus(result.handle)
        guard status != PGRES_COMMAND_OK, status != PGRES_TUPLES_OK else { return nil }
        let code = PQresultErrorField(result.handle, Int32(UInt8(ascii: "C")))
        sqlState = code.map { String(cString: $0) } ?? ""
        message = Connection.message(PQresultErrorMessage(result.handle))
        self.what = what
    }

    /// Class 08 (connection exception), 57P01–57P03 (shutdown, crash, cannot connect now).
    var isConnectionLevel: Bool {
        sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(sqlState) || sqlState.isEmpty
    }

    /// 53100 (disk full) and 53400 (configuration limit exceeded) are `.full`; an undefined
    /// table (42P01) means the schema is missing; all else is `.unavailable`.
    var storeError: StoreError {
        switch sqlState {
        case "53100", "53400": return .full("PostgreSQL: \(what): \(message)")
        case "42P01": return .unavailable("PostgreSQL: \(message): run `idemctl migrate`")
        default: return .unavailable("PostgreSQL: \(what): \(message)\(sqlState.isEmpty ? "" : " [\(sqlState)]")")
        }
    }
}
