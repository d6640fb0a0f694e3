import CLMDB
import Idempotency

/// The one place an LMDB return code becomes a Swift error.
///
/// `MDB_MAP_FULL` is `.full` (the caller may sweep and retry once); every other failure is
/// `.unavailable("<function>: <mdb_strerror>")`. Callers that expect `MDB_NOTFOUND` test for it
/// before calling this.
@inline(__always)
func lmdbCheck(_ rc: Int32, _ function: StaticString) throws(StoreError) {
    guard rc != MDB_SUCCESS else { return }
    throw lmdbError(rc, function)
}

/// The `StoreError` for a failed LMDB call (`mdb_strerror` gives the message).
func lmdbError(_ rc: Int32, _ function: StaticString) -> StoreError {
    let message = "\(function): \(lmdbMessage(rc))"
    return rc == MDB_MAP_FULL ? .full(message) : .unavailable(message)
}

/// `mdb_strerror`, which covers both LMDB's own codes and errno values.
func lmdbMessage(_ rc: Int32) -> String {
    mdb_strerror(rc).map { String(cString: $0) } ?? "error \(rc)"
}
