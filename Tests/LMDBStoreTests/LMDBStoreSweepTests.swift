import Idempotency
import Testing

@testable import LMDBStore

@Suite struct LMDBStoreSweepTests {
    @Test func sweepDeletesOnlyExpiredRecordsAndRespectsLimit() throws {
        let f = try StoreFixture(.init(durability: .noSync))
        let t0 = f.clock.now()
        // Five complete records expiring at t0+10s … t0+50s.
        for i in 1...5 {
            let claim = claimRecord("done\(i)", at: t0, ttlMs: Int64(i) * 10_000)
            _ = try f.store.claim(key("done\(i)"), claim)
            _ = try f.store.complete(key("done\(i)"), token: claim.token, with: completed(claim, body: [UInt8(i)]))
        }
        // Past expiry but its lease is still live: never swept while the owner may be running.
        _ = try f.store.claim(key("running"), claimRecord("running", at: t0, ttlMs: 5_000, leaseMs: 120_000))
        // Past expiry and past lease: an abandoned claim, swept.
        _ = try f.store.claim(key("abandoned"), claimRecord("abandoned", at: t0, ttlMs: 5_000, leaseMs: 5_000))
        let now = t0 + 30_000

        #expect(try f.store.sweep(now: now, limit: 2) == 2)
        #expect(try f.store.stats().recordCount == 5)
        #expect(try f.store.sweep(now: now, limit: 100) == 2)
        #expect(try f.store.sweep(now: now, limit: 100) == 0)
        for gone in ["abandoned", "done1", "done2", "done3"] {
            #expect(try f.store.record(for: key(gone)) == nil, "\(gone)")
        }
        for kept in ["running", "done4", "done5"] { #expect(try f.store.record(for: key(kept)) != nil, "\(kept)") }
        #expect(try f.store.sweep(now: t0 + 200_000, limit: 100) == 3)
        #expect(try f.store.stats().recordCount == 0)
    }

    @Test func sweepOfManyRecordsRunsInBatchesUpToLimit() throws {
        let f = try StoreFixture(.init(durability: .noSync))
        let t0 = f.clock.now()
        for i in 0..<400 {
            _ = try f.store.claim(key("k\(i)"), claimRecord("k\(i)", at: t0, ttlMs: 1_000, leaseMs: 1_000))
        }
        #expect(try f.store.sweep(now: t0 + 1_000, limit: 300) == 300)
        #expect(try f.store.stats().recordCount == 100)
        #expect(try f.store.sweep(now: t0 + 1_000, limit: 1_000) == 100)
    }

    @Test func completeMovesTheExpiryEntrySoSweepFollowsTheNewExpiry() throws {
        let f = try StoreFixture()
        let t0 = f.clock.now()
        let claim = claimRecord("a", at: t0, ttlMs: 10_000, leaseMs: 10_000)
        _ = try f.store.claim(key("a"), claim)
        _ = try f.store.complete(
            key("a"), token: claim.token, with: completed(claim, body: [1], expiresAt: t0 + 100_000))
        #expect(try f.store.sweep(now: t0 + 50_000, limit: 10) == 0)
        #expect(try f.store.record(for: key("a"))?.state == .complete)
        #expect(try f.store.sweep(now: t0 + 100_000, limit: 10) == 1)
        #expect(try f.store.record(for: key("a")) == nil)
    }

    @Test func releasedAndReplacedRecordsLeaveNoExpiryEntryBehind() throws {
        let f = try StoreFixture()
        let t0 = f.clock.now()
        let claim = claimRecord("a", at: t0, ttlMs: 10_000, leaseMs: 1_000)
        _ = try f.store.claim(key("a"), claim)
        #expect(try f.store.release(key("a"), token: claim.token))
        let first = claimRecord("b", at: t0, ttlMs: 10_000, leaseMs: 1_000)
        _ = try f.store.claim(key("b"), first)
        f.clock.advance(seconds: 2)
        let takeover = claimRecord("b", at: f.clock.now(), ttlMs: 10_000, leaseMs: 1_000)
        #expect(try f.store.takeOver(key("b"), from: first.token, with: takeover))
        // Only b's current record remains to sweep: one deletion, no stale index entries.
        #expect(try f.store.sweep(now: t0 + 1_000_000, limit: 10) == 1)
        let entries = try f.store.withTransaction(readOnly: true) { txn throws(StoreError) in
            var n = 0
            try txn.scan(f.store.databases.expiry) { _, _ throws(StoreError) in
                n += 1
                return true
            }
            return n
        }
        #expect(entries == 0)
    }

    @Test func tinyMapFillsUpThenRecoversOnceRecordsExpire() throws {
        let f = try StoreFixture(.init(mapSizeBytes: 64 << 10, durability: .noSync))
        let t0 = f.clock.now()
        var stored = 0
        var fullError: StoreError?
        while stored < 10_000 {
            let name = "fill\(stored)"
            do {
                _ = try f.store.claim(key(name), claimRecord(name, at: t0, ttlMs: 60_000, leaseMs: 10_000))
                stored += 1
            } catch {
                fullError = error
                break
            }
        }
        guard case .full(let message) = fullError else {
            Issue.record("expected StoreError.full, got \(String(describing: fullError)) after \(stored) records")
            return
        }
        #expect(message.contains("MDB_MAP_FULL"))
        #expect(stored > 10)
        // Still full for live records, and what is stored is intact.
        #expect(throws: StoreError.self) { try f.store.claim(key("more"), claimRecord("more", at: t0 + 1_000)) }
        #expect(try f.store.record(for: key("fill0"))?.state == .inProgress)
        // Once everything has expired, claims sweep their way in again; with each record living
        // 5 s and a claim every second, the map keeps recovering long after it first filled.
        let later = t0 + 61_000
        for i in 0..<(stored * 3) {
            let name = "after\(i)"
            let now = later + Int64(i) * 1_000
            #expect(
                try f.store.claim(key(name), claimRecord(name, at: now, ttlMs: 5_000, leaseMs: 2_000))
                    == .claimed(previous: nil))
        }
        #expect(try f.store.stats().recordCount < stored)
    }
}
