import Foundation
import Idempotency
import TestSupport
import Testing

@testable import LMDBStore

/// A full map and the operator's view of the store.
@Suite struct LMDBStorePressureTests {
    static let body = [UInt8](repeating: 0x61, count: 1500)

    /// Claims and completes unique keys until the store refuses; returns how many fit.
    func fillWithCompleteRecords(_ f: StoreFixture, prefix: String) throws -> Int {
        var n = 0
        while n < 10_000 {
            let claim = claimRecord("\(prefix)-\(n)", at: f.clock.now())
            guard case .claimed = try f.store.claim(key("\(prefix)-\(n)"), claim) else { break }
            guard
                try f.store.complete(key("\(prefix)-\(n)"), token: claim.token, with: completed(claim, body: Self.body))
            else { break }
            n += 1
            f.clock.advance(milliseconds: 1)
        }
        return n
    }

    @Test func fullMapOfCompleteRecordsEvictsTheOldestAndKeepsServing() throws {
        let f = try StoreFixture(.init(mapSizeBytes: 256 << 10, durability: .noSync))
        // Without eviction this loop would stop at the first full map; with it, it runs on.
        let stored = try fillWithCompleteRecords(f, prefix: "k")
        #expect(stored == 10_000)
        let stats = try f.store.stats()
        #expect(stats.evictions > 0)
        #expect(stats.recordCount < 10_000)
        #expect(try f.store.record(for: key("k-0")) == nil)  // the oldest went first
        #expect(try f.store.record(for: key("k-9999"))?.state == .complete)  // the newest stayed
    }

    @Test func fullMapOfRunningClaimsRefusesNewClaimsAndEvictsNone() throws {
        let f = try StoreFixture(.init(mapSizeBytes: 64 << 10, durability: .noSync))
        var claimed: [String] = []
        var refusal: StoreError?
        for n in 0..<5_000 {
            let name = "running-\(n)"
            do {
                _ = try f.store.claim(key(name), claimRecord(name, at: f.clock.now()))
                claimed.append(name)
            } catch {
                refusal = error
                break
            }
        }
        guard case .full(let message)? = refusal else {
            Issue.record("expected .full, got \(String(describing: refusal))")
            return
        }
        #expect(message.contains("running claims"))
        for name in claimed { #expect(try f.store.record(for: key(name))?.state == .inProgress) }
        #expect(try f.store.stats().evictions == 0)
    }

    @Test func purgeRemovesAnInFlightClaimSoTheKeyIsNewAgain() throws {
        let f = try StoreFixture()
        let stuck = claimRecord("stuck", at: f.clock.now())
        _ = try f.store.claim(key("stuck"), stuck)
        #expect(try f.store.purge(key("stuck")))
        #expect(try f.store.purge(key("stuck")) == false)
        #expect(try f.store.claim(key("stuck"), claimRecord("stuck", at: f.clock.now())) == .claimed(previous: nil))
        // Its expiry entry went with it: a sweep far in the future deletes only the new claim.
        #expect(try f.store.sweep(now: f.clock.now() + 10 * 86_400_000, limit: 10) == 1)
    }

    @Test func forEachRecordReportsCorruptRecordsInsteadOfSkippingThem() throws {
        let f = try StoreFixture()
        for name in ["a", "b"] { _ = try f.store.claim(key(name), claimRecord(name, at: f.clock.now())) }
        try f.store._putRaw(.records, key: key("bad").bytes, value: Array("not a record".utf8))
        var good = 0
        var bad: [StoreKey] = []
        try f.store.forEachRecord { k, result in
            switch result {
            case .success: good += 1
            case .failure: bad.append(k)
            }
            return true
        }
        #expect(good == 2)
        #expect(bad == [key("bad")])
        #expect(try f.store.purge(key("bad")))
    }
}
