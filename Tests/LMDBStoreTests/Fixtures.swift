import Foundation
import Idempotency
import TestSupport

@testable import LMDBStore

/// A store in a fresh temporary directory; the directory lives as long as the fixture.
final class StoreFixture: @unchecked Sendable {
    let directory = TemporaryDirectory("idem-lmdb")
    let clock = ManualClock()
    var path: String { directory.file("idem.mdb") }
    private(set) var store: LMDBStore

    init(_ options: LMDBStore.Options = .init()) throws {
        store = try LMDBStore(path: directory.file("idem.mdb"), options: options, clock: clock)
    }

    func reopen(_ options: LMDBStore.Options = .init()) throws {
        store.close()
        store = try LMDBStore(path: path, options: options, clock: clock)
    }
}

/// The store key of a probe-style scope, so the test process and `idem-store-probe` agree.
func key(_ name: String) -> StoreKey { probeScope(name).storeKey }

func probeScope(_ name: String) -> Scope { RecordFixtures.scope(name, route: "/probe") }

/// An in-progress claim made at `now`, as the inbound policy builds it.
func claimRecord(
    _ name: String, at now: Timestamp, ttlMs: Int64 = 86_400_000, leaseMs: Int64 = 60_000, token: ClaimToken = .random()
) -> IdempotencyRecord {
    RecordFixtures.claim(name, route: "/probe", at: now, ttlMs: ttlMs, leaseMs: leaseMs, token: token)
}

/// The completed form of `claim`, holding `body`.
func completed(_ claim: IdempotencyRecord, status: Int = 201, body: [UInt8], expiresAt: Timestamp? = nil)
    -> IdempotencyRecord
{
    var done = claim
    done.state = .complete
    done.response = StoredResponse(
        status: status, headers: [("Content-Type", "application/json"), ("Location", "/payments/1")], body: body)
    if let expiresAt { done.expiresAt = expiresAt }
    return done
}

func fileBytes(_ path: String) -> [UInt8]? { FileManager.default.contents(atPath: path).map { Array($0) } }
