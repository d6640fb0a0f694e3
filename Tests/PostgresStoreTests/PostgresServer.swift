import Foundation
import Idempotency
import Synchronization
import TestSupport

@testable import PostgresStore

/// The test cluster of TestSupport, with what these suites add: a migrated store of its own.
typealias PostgresServer = PostgresCluster

extension PostgresCluster {
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
}

/// A store key per test name, so records never collide.
func key(_ name: String) -> StoreKey { scope(name).storeKey }

func scope(_ name: String) -> Scope { RecordFixtures.scope(name, route: "/pg") }

/// An in-progress claim made at `now`, as the inbound policy builds it.
func claimRecord(
    _ name: String, at now: Timestamp, ttlMs: Int64 = 86_400_000, leaseMs: Int64 = 60_000, token: ClaimToken = .random()
) -> IdempotencyRecord {
    RecordFixtures.claim(name, route: "/pg", at: now, ttlMs: ttlMs, leaseMs: leaseMs, token: token, owner: "test-owner")
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
